/** The server's message without its "criteria.min_ltv: " prefix, for showing next to the field it names. */
export function errorText(err: unknown, fallback: string): string {
  if (!(err instanceof Error) || err.message === '') return fallback;
  return err.message.replace(/^[\w.]+: /, '');
}

import { env } from '@/lib/env';

/** An absolute URL of this app, from APP_URL when set, else from the request. */
export function publicUrl(req: Request, path: string): string {
  const base = env().APP_URL ?? new URL(req.url).origin;
  return new URL(path, base).toString();
}

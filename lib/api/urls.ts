import { env } from '@/lib/env';

/** An absolute URL of this app, from APP_URL when set, else from the request. */
export function publicUrl(req: Request, path: string): string {
  const base = env().APP_URL ?? new URL(req.url).origin;
  return new URL(path, base).toString();
}

/** An absolute URL of this app where there is no request (the worker, cron): APP_URL, else this machine's port. */
export function appUrl(path: string): string {
  return new URL(path, env().APP_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).toString();
}

/**
 * `npm start`: the production server for self-hosting (Vercel runs the app its own way). It is
 * `next start` plus one thing Next does not do: the connection's peer address is appended to
 * X-Forwarded-For, so rate limits key on an address a client cannot invent (see
 * lib/api/forwarded.ts and TRUSTED_PROXY_HOPS in the README).
 */
import { createServer } from 'node:http';
import next from 'next';
import { forwardedHeaders } from '@/lib/api/forwarded';
import { env } from '@/lib/env';

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOSTNAME ?? '0.0.0.0';
const hops = env().TRUSTED_PROXY_HOPS;

const app = next({ dev: false, hostname, port });
await app.prepare();
const handle = app.getRequestHandler();

createServer((req, res) => {
  req.headers = forwardedHeaders(req.headers, req.socket.remoteAddress ?? 'unknown', hops);
  handle(req, res).catch((err: unknown) => {
    // Next answers its own errors; this is for one it could not, so the process stays up.
    console.error('[start] request failed', err);
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  });
}).listen(port, hostname, () => {
  console.log(`haven-hub listening on http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port} (trusted proxy hops: ${hops})`);
});

import type { IncomingHttpHeaders } from 'node:http';

/**
 * The X-Forwarded-* headers as `npm start` hands a request to Next: the connection's peer is
 * appended to X-Forwarded-For, so its last entry is always an address nobody could choose. With
 * no trusted proxy (`hops` 0) the peer is the client: whatever the client wrote into the
 * forwarding headers is dropped first. (Next itself only fills these headers when they are
 * absent, which would keep a client's invented values.)
 */
export function forwardedHeaders(headers: IncomingHttpHeaders, peer: string, hops: number): IncomingHttpHeaders {
  const out = { ...headers };
  if (hops === 0) {
    delete out['x-forwarded-for'];
    delete out['x-forwarded-host'];
    delete out['x-forwarded-proto'];
    delete out['x-forwarded-port'];
    delete out['x-real-ip'];
  }
  const existing = Array.isArray(out['x-forwarded-for']) ? out['x-forwarded-for'].join(', ') : out['x-forwarded-for'];
  out['x-forwarded-for'] = existing ? `${existing}, ${peer}` : peer;
  return out;
}

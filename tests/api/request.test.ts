import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { POST as signup } from '@/app/api/auth/signup/route';
import { POST as track } from '@/app/api/track/route';
import { withMerchant } from '@/lib/api/handler';
import { forwardedHeaders } from '@/lib/api/forwarded';
import { clientIp, MAX_BODY_BYTES } from '@/lib/api/request';
import { reloadEnv } from '@/lib/env';
import { call, ORIGIN } from '@/tests/helpers/http';
import { createMerchant } from '@/tests/helpers/merchants';

const setEnv = (vars: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  reloadEnv();
};
afterEach(() => setEnv({ TRUSTED_PROXY_HOPS: undefined, VERCEL: undefined }));

describe('bodies past the limit', () => {
  it('stops reading a chunked body without Content-Length at the limit and answers 413', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let pulled = 0;
    // 400 MB on offer, as the review sent; the stream counts what the server actually takes.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 400 * 1024 * 1024) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const req = new Request(`${ORIGIN}/api/track`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.7' }, duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    const res = await track(req, { params: Promise.resolve({}) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload_too_large' });
    expect(pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + 2 * chunk.byteLength);
  });

  it('refuses a declared Content-Length past the limit before reading anything', async () => {
    const res = await call(track, '/api/track', {
      rawBody: '{}', headers: { 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) },
    });
    expect(res.status).toBe(413);
  });
});

describe('the caller address rate limits key on', () => {
  const req = (xff: string) => new Request(`${ORIGIN}/x`, { headers: { 'x-forwarded-for': xff } });

  it('is the peer the server appended, or the entry each trusted proxy hop further left', () => {
    expect(clientIp(req('6.6.6.6, 203.0.113.5'))).toBe('203.0.113.5');
    setEnv({ TRUSTED_PROXY_HOPS: '1' });
    expect(clientIp(req('6.6.6.6, 203.0.113.5, 10.0.0.2'))).toBe('203.0.113.5');
    setEnv({ TRUSTED_PROXY_HOPS: '2' });
    expect(clientIp(req('6.6.6.6, 203.0.113.5, 10.0.0.3, 10.0.0.2'))).toBe('203.0.113.5');
    // An IPv6 client is one /64, however many of its 2^64 addresses it uses; IPv4-mapped is IPv4.
    setEnv({ TRUSTED_PROXY_HOPS: undefined });
    expect(clientIp(req('2001:db8:1:2:aaaa::1'))).toBe('2001:db8:1:2::/64');
    expect(clientIp(req('2001:0db8:0001:0002:ffff:ffff:ffff:fffe'))).toBe('2001:db8:1:2::/64');
    expect(clientIp(req('::ffff:203.0.113.5'))).toBe('203.0.113.5');
    // Fewer entries than trusted hops: the peer, never the client-written leftmost entry.
    setEnv({ TRUSTED_PROXY_HOPS: '2' });
    expect(clientIp(req('6.6.6.6, 203.0.113.5'))).toBe('203.0.113.5');
    // On Vercel the edge writes the header: its first entry is the client.
    setEnv({ TRUSTED_PROXY_HOPS: undefined, VERCEL: '1' });
    expect(clientIp(req('203.0.113.5'))).toBe('203.0.113.5');
  });

  it("npm start's server drops forwarding headers a client sends when no proxy is trusted, and appends the peer", () => {
    const spoofed = { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-host': 'evil.test', host: 'shop.test' };
    expect(forwardedHeaders(spoofed, '203.0.113.9', 0)).toEqual({ host: 'shop.test', 'x-forwarded-for': '203.0.113.9' });
    expect(forwardedHeaders(spoofed, '10.0.0.2', 1)).toMatchObject({ 'x-forwarded-for': '1.2.3.4, 10.0.0.2', 'x-forwarded-host': 'evil.test' });
  });

  it('sign-ups from one address, each with a made-up X-Forwarded-For, share its limit of 10 an hour', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      // What the route sees once npm start's server has handled the connection.
      const headers = forwardedHeaders({ 'x-forwarded-for': `192.0.2.${i}` }, '203.0.113.77', 0) as Record<string, string>;
      const res = await call(signup, '/api/auth/signup', { body: { email: `spoof-${i}-${Date.now()}@example.test`, password: 'long enough password' }, headers });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 201)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429, 429]);
  });
});

const probe = withMerchant({ body: z.object({ n: z.number() }) }, async ({ body }) => ({ n: body.n }));

describe('same-origin check and content type', () => {
  const send = async (headers: Record<string, string>, rawBody = '{"n":1}') => {
    const m = await createMerchant('origin');
    return call(probe, '/api/probe', { cookie: m.cookie, rawBody, headers: { 'content-type': 'application/json', ...headers } });
  };

  it('compares scheme, host and port, not the host alone', async () => {
    expect((await send({ origin: 'http://localhost:3000' })).status).toBe(200);
    expect((await send({ origin: 'https://localhost:3000' })).status).toBe(403);
    expect((await send({ origin: 'http://localhost:3001' })).status).toBe(403);
    expect((await send({ origin: 'http://localhost' })).status).toBe(403);
    expect((await send({ origin: 'null' })).status).toBe(403);
  });

  it('believes X-Forwarded-Host only through a trusted proxy', async () => {
    expect((await send({ origin: 'https://evil.test', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https' })).status).toBe(403);
    setEnv({ TRUSTED_PROXY_HOPS: '1' });
    expect((await send({ origin: 'https://app.example.com', 'x-forwarded-host': 'app.example.com', 'x-forwarded-proto': 'https' })).status).toBe(200);
  });

  it('parses the media type instead of looking for a substring', async () => {
    expect((await send({ origin: 'http://localhost:3000', 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await send({ origin: 'http://localhost:3000', 'content-type': 'text/plain; x=application/json' })).status).toBe(415);
    expect((await send({ origin: 'http://localhost:3000', 'content-type': 'application/jsonp' })).status).toBe(415);
  });
});

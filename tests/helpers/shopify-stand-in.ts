import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, cookieHeader, ORIGIN } from '@/tests/helpers/http';
import type { TestMerchant } from '@/tests/helpers/merchants';

/**
 * Stands in for Shopify on a local port, speaking its documented protocol for a non-embedded
 * app's authorization code grant and the Admin GraphQL API (the app reaches it through
 * SHOPIFY_API_ORIGIN, as <origin>/shops/<shop>/<path>):
 * - GET /admin/oauth/authorize?client_id&scope&redirect_uri&state: the merchant approves at
 *   once; 302 to redirect_uri with code, hmac, host, shop, state and timestamp, the hmac a hex
 *   HMAC-SHA256 of the sorted query under the app's secret.
 * - POST /admin/oauth/access_token {client_id, client_secret, code}: a code works once, for
 *   the shop it was issued for; anything else is 400 as Shopify answers it.
 * - POST /admin/api/<version>/graphql.json with X-Shopify-Access-Token: webhookSubscriptions,
 *   webhookSubscriptionCreate and webhookSubscriptionDelete; a bad or revoked token is 401.
 * Tests script the scope granted, see every request and every subscription.
 */
export interface ShopifyStandIn {
  url: string;
  /** Subscriptions created in a shop, as Shopify holds them. */
  subscriptions(shop: string): { id: string; topic: string; uri: string }[];
  /** Every request, as path (without the /shops/<shop> prefix) and shop. */
  requests: { shop: string; method: string; path: string; body: unknown }[];
  /** The scope the next approvals grant (default: what was asked). */
  grantScope(scope: string | null): void;
  /** Approve as Shopify would, without a browser: the callback URL Shopify redirects to. */
  approve(authorizeUrl: string): Promise<string>;
  /** Revoke every token of a shop (the store uninstalled the app). */
  revoke(shop: string): void;
  /** Make webhookSubscriptionCreate refuse this topic with a user error. */
  refuseTopic(topic: string | null): void;
  close(): Promise<void>;
}

/** Shopify's HMAC of a query: every parameter but hmac, sorted, URL-encoded, hex HMAC-SHA256. */
export function signShopifyQuery(params: Record<string, string>, secret: string): string {
  const sorted = new URLSearchParams(Object.keys(params).filter((k) => k !== 'hmac' && k !== 'signature').sort((a, b) => a.localeCompare(b)).map((k) => [k, params[k] ?? '']));
  return createHmac('sha256', secret).update(sorted.toString()).digest('hex');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startShopifyStandIn(app: { apiKey: string; apiSecret: string }): Promise<ShopifyStandIn> {
  const codes = new Map<string, { shop: string; scope: string }>();
  const tokens = new Map<string, { shop: string; scope: string }>();
  const subs = new Map<string, { id: string; topic: string; uri: string }[]>();
  const requests: ShopifyStandIn['requests'] = [];
  let scopeOverride: string | null = null;
  let refused: string | null = null;
  let nextId = 1000;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const authorize = (shop: string, q: URLSearchParams): { status: number; location?: string; body?: unknown } => {
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== app.apiKey || !redirect || !q.get('state')) return { status: 400, body: { error: 'invalid_request' } };
    const code = randomBytes(16).toString('hex');
    codes.set(code, { shop, scope: scopeOverride ?? q.get('scope') ?? '' });
    const params: Record<string, string> = {
      code,
      host: Buffer.from(`admin.shopify.com/store/${shop.split('.')[0]}`).toString('base64'),
      shop,
      state: q.get('state') ?? '',
      timestamp: String(Math.floor(Date.now() / 1000)),
    };
    const back = new URL(redirect);
    for (const [k, v] of Object.entries(params)) back.searchParams.set(k, v);
    back.searchParams.set('hmac', signShopifyQuery(params, app.apiSecret));
    return { status: 302, location: back.toString() };
  };

  const graphql = (shop: string, token: string | undefined, body: { query?: string; variables?: Record<string, unknown> }) => {
    const t = token ? tokens.get(token) : undefined;
    if (!t || t.shop !== shop) return { status: 401, body: { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' } };
    const list = subs.get(shop) ?? [];
    const query = body.query ?? '';
    if (query.includes('webhookSubscriptionDelete')) {
      const id = String(body.variables?.id ?? '');
      const found = list.some((x) => x.id === id);
      subs.set(shop, list.filter((x) => x.id !== id));
      return { status: 200, body: { data: { webhookSubscriptionDelete: { deletedWebhookSubscriptionId: found ? id : null, userErrors: found ? [] : [{ field: ['id'], message: 'Webhook subscription does not exist' }] } } } };
    }
    if (query.includes('webhookSubscriptionCreate')) {
      const topic = String(body.variables?.topic ?? '');
      const input = (body.variables?.webhookSubscription ?? {}) as { uri?: string };
      if (topic === refused || !input.uri) {
        return { status: 200, body: { data: { webhookSubscriptionCreate: { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription'], message: 'Address for this topic has already been taken' }] } } } };
      }
      const sub = { id: `gid://shopify/WebhookSubscription/${nextId++}`, topic, uri: input.uri };
      subs.set(shop, [...list, sub]);
      return { status: 200, body: { data: { webhookSubscriptionCreate: { webhookSubscription: sub, userErrors: [] } } } };
    }
    if (query.includes('webhookSubscriptions')) return { status: 200, body: { data: { webhookSubscriptions: { nodes: list } } } };
    return { status: 200, body: { errors: [{ message: 'Field does not exist' }] } };
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const m = /^\/shops\/([^/]+)(\/.*)$/.exec(url.pathname);
      if (!m) return send(res, 404, { errors: 'Not Found' });
      const shop = m[1] ?? '';
      const path = m[2] ?? '';
      const raw = req.method === 'POST' ? await readBody(req) : '';
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return send(res, 400, { errors: 'Bad JSON' });
      }
      requests.push({ shop, method: req.method ?? 'GET', path, body });
      if (req.method === 'GET' && path === '/admin/oauth/authorize') {
        const r = authorize(shop, url.searchParams);
        if (r.location) {
          res.writeHead(302, { location: r.location });
          return res.end();
        }
        return send(res, r.status, r.body);
      }
      if (req.method === 'POST' && path === '/admin/oauth/access_token') {
        const grant = codes.get(String(body.code ?? ''));
        codes.delete(String(body.code ?? ''));
        if (body.client_id !== app.apiKey || body.client_secret !== app.apiSecret || !grant || grant.shop !== shop) {
          return send(res, 400, { error: 'invalid_request', error_description: 'The authorization code was not found or was already used' });
        }
        const token = `shpat_${randomBytes(16).toString('hex')}`;
        tokens.set(token, grant);
        return send(res, 200, { access_token: token, scope: grant.scope });
      }
      if (req.method === 'POST' && /^\/admin\/api\/[0-9]{4}-[0-9]{2}\/graphql\.json$/.test(path)) {
        const r = graphql(shop, req.headers['x-shopify-access-token'] as string | undefined, body);
        return send(res, r.status, r.body);
      }
      return send(res, 404, { errors: 'Not Found' });
    })().catch(() => send(res, 500, { errors: 'stand-in failed' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    subscriptions: (shop) => subs.get(shop) ?? [],
    grantScope: (scope) => { scopeOverride = scope; },
    refuseTopic: (topic) => { refused = topic; },
    revoke: (shop) => {
      for (const [token, t] of tokens) if (t.shop === shop) tokens.delete(token);
      subs.delete(shop);
    },
    approve: async (authorizeUrl) => {
      const res = await fetch(authorizeUrl, { redirect: 'manual' });
      const location = res.headers.get('location');
      if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);
      return location;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The app's credentials the tests run with, and the env that points the app at a stand-in. */
export const TEST_APP = { apiKey: 'haven-test-app-client-id', apiSecret: 'shpss_app_secret_0123456789abcdef' };

export function useStandInEnv(standIn: ShopifyStandIn): void {
  // The app's address, as production sets it (the install and the webhooks are built from it).
  process.env.APP_URL = ORIGIN;
  process.env.SHOPIFY_API_KEY = TEST_APP.apiKey;
  process.env.SHOPIFY_API_SECRET = TEST_APP.apiSecret;
  process.env.SHOPIFY_API_ORIGIN = standIn.url;
}

export function clearStandInEnv(): void {
  delete process.env.APP_URL;
  delete process.env.SHOPIFY_API_KEY;
  delete process.env.SHOPIFY_API_SECRET;
  delete process.env.SHOPIFY_API_ORIGIN;
}

/**
 * Install the app the way a merchant does: Settings' "Connect Shopify" (the real route), the
 * stand-in's approval, and the browser following Shopify's redirect to the real callback.
 */
export async function installApp(standIn: ShopifyStandIn, m: TestMerchant, shop: string): Promise<{ outcome: string | null; callbackUrl: string }> {
  const { POST } = await import('@/app/api/shopify/install/route');
  const { GET } = await import('@/app/api/shopify/callback/route');
  const start = await call<{ authorizeUrl: string }>(POST, '/api/shopify/install', { cookie: m.cookie, body: { shop } });
  if (start.status !== 200) throw new Error(`install refused: ${JSON.stringify(start.body)}`);
  const callbackUrl = await standIn.approve(start.body.authorizeUrl);
  const u = new URL(callbackUrl);
  const back = await call(GET, `${u.pathname}${u.search}`, { cookie: `${m.cookie}; ${cookieHeader(start.setCookies)}` });
  return { outcome: new URL(back.headers.get('location') ?? '', ORIGIN).searchParams.get('shopify'), callbackUrl };
}

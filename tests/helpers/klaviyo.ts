import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * Stands in for Klaviyo on a local port, speaking its documented protocol: private-key
 * authentication (`Authorization: Klaviyo-API-Key ...`), a required `revision` header,
 * JSON:API bodies, 202 for an accepted event, JSON:API errors, per-account fixed-window rate
 * limits (a burst second and a steady minute) with RateLimit-* headers on every answer but a
 * 429, and Retry-After on a 429. Events are deduplicated on unique_id as Klaviyo does (per
 * profile and metric). Tests script answers (500, 429, a hang) and see every request.
 */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  apiKey: string | null;
  revision: string | null;
  contentType: string | null;
  body: unknown;
}

export interface AcceptedEvent {
  uniqueId: string;
  metric: string;
  email: string | null;
  properties: Record<string, unknown>;
  value: number | null;
  time: string | null;
}

/** A scripted answer for the next request: a status (with Retry-After for a 429), or no answer at all. */
export type Scripted = { status: number; retryAfter?: string; body?: string } | 'hang';

export interface StandInOptions {
  /** Keys that authenticate (others get 401). */
  keys?: string[];
  /** Create Event's limits (documented: 350/s, 3,500/m). */
  burstPerSecond?: number;
  steadyPerMinute?: number;
}

interface Limit {
  burst: number;
  steady: number;
}

/**
 * Klaviyo's documented limits of each endpoint, as its API reference gives them. Klaviyo counts
 * each endpoint in windows of its own, per account (here: per key). The endpoints not listed
 * are not limited here (tests call them a few times).
 */
export const DOCUMENTED_LIMITS: Record<string, Limit> = {
  'POST /api/profile-bulk-import-jobs': { burst: 10, steady: 150 },
  'GET /api/profiles': { burst: 75, steady: 700 },
  'DELETE /api/lists/:id/relationships/profiles': { burst: 10, steady: 150 },
  'POST /api/lists': { burst: 10, steady: 150 },
};

/** The endpoint a request is counted under: its method and path with ids as :id. */
export function endpointOf(method: string, pathname: string): string {
  return `${method} ${pathname.replace(/^\/api\/lists\/[^/]+\//, '/api/lists/:id/')}`;
}

/** The most requests to `endpoint` in one fixed second, over what the stand-in has seen. */
export function busiestSecond(requests: RecordedRequest[], endpoint: string): number {
  const perSecond = new Map<number, number>();
  for (const r of requests) {
    if (endpointOf(r.method, r.path) !== endpoint) continue;
    const second = Math.floor(r.at / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  return Math.max(0, ...perSecond.values());
}

const fixture = (name: string) => readFileSync(path.join(process.cwd(), 'tests/fixtures/klaviyo', name), 'utf8');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function jsonApiError(status: number, code: string, title: string, detail: string): string {
  return JSON.stringify({ errors: [{ id: crypto.randomUUID(), status, code, title, detail, source: { pointer: '/data/' } }] });
}

/** The rules of Create Event's request body (EventCreateQueryV2): what Klaviyo answers 400 to. */
export function eventBodyProblem(body: unknown): string | null {
  if (!isObject(body) || !isObject(body.data)) return 'data is required';
  const { data } = body;
  if (data.type !== 'event') return 'data.type must be "event"';
  const a = data.attributes;
  if (!isObject(a)) return 'data.attributes is required';
  if (!isObject(a.properties)) return 'attributes.properties is required';
  const metric = isObject(a.metric) && isObject(a.metric.data) ? a.metric.data : null;
  if (!metric || metric.type !== 'metric' || !isObject(metric.attributes) || typeof metric.attributes.name !== 'string') {
    return 'attributes.metric.data must be a metric with a name';
  }
  if (metric.attributes.name.length >= 128) return 'metric name must be less than 128 characters';
  const profile = isObject(a.profile) && isObject(a.profile.data) ? a.profile.data : null;
  if (!profile || profile.type !== 'profile' || !isObject(profile.attributes)) return 'attributes.profile.data must be a profile';
  const p = profile.attributes;
  if (![p.email, p.phone_number, p.external_id, profile.id].some((x) => typeof x === 'string' && x)) {
    return 'the profile needs an identifier (email, phone_number, external_id or id)';
  }
  if (a.time !== undefined && a.time !== null && Number.isNaN(Date.parse(String(a.time)))) return 'time must be a date-time';
  if (a.value !== undefined && a.value !== null && typeof a.value !== 'number') return 'value must be a number';
  return null;
}

export class KlaviyoStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly events = new Map<string, AcceptedEvent>();
  readonly script: Scripted[] = [];
  /** 429s sent, by the rate limits or by the script. */
  rateLimited = 0;
  /** Called with each request before it is answered; an answer waits for a promise it returns. */
  onRequest: ((req: RecordedRequest) => void | Promise<void>) | null = null;
  keys: Set<string>;
  /** Each key is its own account: its profiles (email -> id) and its lists (id -> name and members). */
  readonly accounts = new Map<string, {
    profiles: Map<string, string>;
    lists: Map<string, { name: string; members: Set<string> }>;
    /** The custom properties each profile has, as imported (later imports merge in). */
    properties: Map<string, Record<string, unknown>>;
    /** The identifiers deletion jobs were requested for, in order. */
    deleted: string[];
  }>();
  burstPerSecond: number;
  steadyPerMinute: number;
  private server: Server | null = null;
  private readonly hung: ServerResponse[] = [];
  /** Each key's windows, by endpoint. */
  private readonly windows = new Map<string, { second: number; inSecond: number; minute: number; inMinute: number }>();

  constructor(options: StandInOptions = {}) {
    this.keys = new Set(options.keys ?? ['pk_test_haven_0123456789']);
    this.burstPerSecond = options.burstPerSecond ?? 350;
    this.steadyPerMinute = options.steadyPerMinute ?? 3500;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('The Klaviyo stand-in is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  account(key: string) {
    let a = this.accounts.get(key);
    if (!a) {
      a = { profiles: new Map(), lists: new Map(), properties: new Map(), deleted: [] };
      this.accounts.set(key, a);
    }
    return a;
  }

  /** The emails on an account's lists, by list name. */
  listMembers(key: string): Record<string, string[]> {
    const a = this.account(key);
    const byId = new Map([...a.profiles].map(([email, id]) => [id, email]));
    return Object.fromEntries([...a.lists.values()].map((l) => [l.name, [...l.members].map((id) => byId.get(id) ?? id).sort()]));
  }

  /** Requests to an endpoint, in arrival order. */
  sent(pathname = '/api/events'): RecordedRequest[] {
    return this.requests.filter((r) => r.path === pathname);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hung.splice(0)) res.destroy();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private limitOf(endpoint: string): Limit | null {
    if (endpoint === 'POST /api/events') return { burst: this.burstPerSecond, steady: this.steadyPerMinute };
    return DOCUMENTED_LIMITS[endpoint] ?? null;
  }

  private windowOf(key: string, endpoint: string, now: number) {
    const id = `${key}|${endpoint}`;
    let w = this.windows.get(id);
    if (!w) {
      w = { second: 0, inSecond: 0, minute: 0, inMinute: 0 };
      this.windows.set(id, w);
    }
    const second = Math.floor(now / 1000);
    const minute = Math.floor(now / 60_000);
    if (second !== w.second) {
      w.second = second;
      w.inSecond = 0;
    }
    if (minute !== w.minute) {
      w.minute = minute;
      w.inMinute = 0;
    }
    return w;
  }

  /** The steady window's state of this key and endpoint, as Klaviyo's RateLimit-* headers say it. */
  private rateHeaders(key: string, endpoint: string, now: number): Record<string, string> {
    const limit = this.limitOf(endpoint);
    if (!limit) return {};
    const w = this.windowOf(key, endpoint, now);
    return {
      'RateLimit-Limit': String(limit.steady),
      'RateLimit-Remaining': String(Math.max(limit.steady - w.inMinute, 0)),
      'RateLimit-Reset': String(Math.ceil(((w.minute + 1) * 60_000 - now) / 1000)),
    };
  }

  /** Count the request in its key's and endpoint's windows; the seconds to wait when over either. */
  private overLimit(key: string, endpoint: string, now: number): number | null {
    const limit = this.limitOf(endpoint);
    if (!limit) return null;
    const w = this.windowOf(key, endpoint, now);
    if (w.inMinute >= limit.steady) return Math.ceil(((w.minute + 1) * 60_000 - now) / 1000);
    if (w.inSecond >= limit.burst) return 1;
    w.inSecond += 1;
    w.inMinute += 1;
    return null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const auth = req.headers.authorization ?? '';
    const recorded: RecordedRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://stand-in').pathname.replace(/\/$/, ''),
      apiKey: auth.startsWith('Klaviyo-API-Key ') ? auth.slice('Klaviyo-API-Key '.length) : null,
      revision: typeof req.headers.revision === 'string' ? req.headers.revision : null,
      contentType: req.headers['content-type'] ?? null,
      body,
    };
    if (recorded.path === '/__stand-in/stats') {
      // For a stand-in in another process (the benchmark): what it has seen, not part of Klaviyo's API.
      const ids = new Map<string, number>();
      for (const r of this.sent()) {
        const uid = (r.body as { data?: { attributes?: { unique_id?: string } } } | null)?.data?.attributes?.unique_id;
        if (uid) ids.set(uid, (ids.get(uid) ?? 0) + 1);
      }
      const accepted = [...this.events.values()].length;
      const endpoints: Record<string, { requests: number; busiestSecond: number }> = {};
      for (const endpoint of new Set(this.requests.map((r) => endpointOf(r.method, r.path)))) {
        endpoints[endpoint] = {
          requests: this.requests.filter((r) => endpointOf(r.method, r.path) === endpoint).length,
          busiestSecond: busiestSecond(this.requests, endpoint),
        };
      }
      const lists: Record<string, number> = {};
      for (const a of this.accounts.values()) for (const l of a.lists.values()) lists[l.name] = l.members.size;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ requests: this.sent().length, accepted, rateLimited: this.rateLimited,
        repeated: [...ids.values()].filter((n) => n > 1).length, first: this.sent()[0]?.at ?? null, last: this.sent().at(-1)?.at ?? null,
        endpoints, lists }));
      return;
    }
    this.requests.push(recorded);
    await this.onRequest?.(recorded);
    if (res.destroyed) return;

    const send = (status: number, payload: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { ...(payload ? { 'content-type': 'application/vnd.api+json' } : {}), ...headers });
      res.end(payload);
    };
    const scripted = this.script.shift();
    if (scripted === 'hang') {
      this.hung.push(res);
      return;
    }
    if (scripted) {
      if (scripted.status === 429) this.rateLimited += 1;
      send(scripted.status, scripted.body ?? (scripted.status >= 400 ? jsonApiError(scripted.status, 'error', 'Scripted error', `A ${scripted.status} from the test`) : ''),
        scripted.retryAfter === undefined ? {} : { 'Retry-After': scripted.retryAfter });
      return;
    }

    if (!recorded.apiKey || !this.keys.has(recorded.apiKey)) {
      send(401, fixture('error-401.json'));
      return;
    }
    if (!recorded.revision || !/^\d{4}-\d{2}-\d{2}(\.\w+)?$/.test(recorded.revision)) {
      send(400, jsonApiError(400, 'invalid', 'Invalid input.', 'The revision header is required (YYYY-MM-DD)'));
      return;
    }
    const now = Date.now();
    const endpoint = endpointOf(recorded.method, recorded.path);
    const wait = this.overLimit(recorded.apiKey, endpoint, now);
    if (wait !== null) {
      this.rateLimited += 1;
      send(429, jsonApiError(429, 'throttled', 'Request was throttled.', `Request was throttled. Expected available in ${wait} seconds.`), {
        'Retry-After': String(wait),
      });
      return;
    }
    const rate = this.rateHeaders(recorded.apiKey, endpoint, now);

    const account = this.account(recorded.apiKey);
    const profileId = (email: string) => {
      let id = account.profiles.get(email);
      if (!id) {
        id = `01P${crypto.randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`;
        account.profiles.set(email, id);
      }
      return id;
    };
    if (recorded.method === 'POST' && recorded.path === '/api/lists') {
      const name = (body as { data?: { attributes?: { name?: unknown } } } | null)?.data?.attributes?.name;
      if (typeof name !== 'string' || !name) {
        send(400, jsonApiError(400, 'invalid', 'Invalid input.', 'A list needs a name'), rate);
        return;
      }
      const id = crypto.randomUUID().replace(/-/g, '').slice(0, 6);
      account.lists.set(id, { name, members: new Set() });
      send(201, JSON.stringify({ data: { type: 'list', id, attributes: { name } } }), rate);
      return;
    }
    if (recorded.method === 'POST' && recorded.path === '/api/profile-bulk-import-jobs') {
      const d = (body as { data?: { type?: string; attributes?: { profiles?: { data?: { attributes?: { email?: unknown } }[] } };
        relationships?: { lists?: { data?: { id?: string }[] } } } } | null)?.data;
      const profiles = d?.attributes?.profiles?.data as { attributes?: { email?: unknown; properties?: Record<string, unknown> } }[] | undefined;
      if (Buffer.byteLength(text) > 5_000_000) {
        send(413, jsonApiError(413, 'payload_too_large', 'Payload too large.', 'A bulk import job must be under 5 MB'), rate);
        return;
      }
      if (d?.type !== 'profile-bulk-import-job' || !Array.isArray(profiles) || profiles.length === 0 || profiles.length > 10_000) {
        send(400, jsonApiError(400, 'invalid', 'Invalid input.', 'profiles must hold 1 to 10,000 profiles'), rate);
        return;
      }
      const listIds = (d.relationships?.lists?.data ?? []).map((l) => l.id ?? '');
      if (listIds.some((id) => !account.lists.has(id))) {
        send(404, jsonApiError(404, 'not_found', 'Not found.', 'No such list'), rate);
        return;
      }
      for (const p of profiles) {
        const email = p.attributes?.email;
        if (typeof email !== 'string') continue;
        const id = profileId(email);
        for (const l of listIds) account.lists.get(l)?.members.add(id);
        if (p.attributes?.properties) account.properties.set(email, { ...account.properties.get(email), ...p.attributes.properties });
      }
      send(202, JSON.stringify({ data: { type: 'profile-bulk-import-job', id: crypto.randomUUID(), attributes: { status: 'queued' } } }), rate);
      return;
    }
    if (recorded.method === 'GET' && recorded.path === '/api/profiles') {
      const filter = new URL(req.url ?? '/', 'http://stand-in').searchParams.get('filter') ?? '';
      const m = /^any\(email,(\[.*\])\)$/.exec(filter);
      const emails = m?.[1] ? (JSON.parse(m[1]) as string[]) : [];
      if (emails.length > 100) {
        send(400, jsonApiError(400, 'invalid', 'Invalid input.', 'A filter takes at most 100 values'), rate);
        return;
      }
      const data = emails.filter((e) => account.profiles.has(e)).map((e) => ({ type: 'profile', id: account.profiles.get(e), attributes: { email: e } }));
      send(200, JSON.stringify({ data, links: { self: '', next: null, prev: null } }), rate);
      return;
    }
    const rel = /^\/api\/lists\/([^/]+)\/relationships\/profiles$/.exec(recorded.path);
    if (recorded.method === 'DELETE' && rel?.[1]) {
      const list = account.lists.get(decodeURIComponent(rel[1]));
      if (!list) {
        send(404, jsonApiError(404, 'not_found', 'Not found.', 'No such list'), rate);
        return;
      }
      for (const p of (body as { data?: { id?: string }[] } | null)?.data ?? []) if (p.id) list.members.delete(p.id);
      send(204, '', rate);
      return;
    }
    if (recorded.method === 'POST' && recorded.path === '/api/data-privacy-deletion-jobs') {
      // Klaviyo's documented body: exactly one identifier of the profile to delete.
      const d = (body as { data?: { type?: string; attributes?: { profile?: { data?: { type?: string; attributes?: Record<string, unknown> } } } } } | null)?.data;
      const ids = d?.attributes?.profile?.data?.attributes ?? {};
      const keys = Object.keys(ids).filter((k) => ['email', 'phone_number', 'id'].includes(k));
      if (d?.type !== 'data-privacy-deletion-job' || d.attributes?.profile?.data?.type !== 'profile' || keys.length !== 1) {
        send(400, jsonApiError(400, 'invalid', 'Invalid input.', 'Give exactly one of email, phone_number or id'), rate);
        return;
      }
      const email = typeof ids.email === 'string' ? ids.email : null;
      if (email) {
        const id = account.profiles.get(email);
        account.profiles.delete(email);
        account.properties.delete(email);
        if (id) for (const l of account.lists.values()) l.members.delete(id);
      }
      account.deleted.push(email ?? String(ids[keys[0] ?? ''] ?? ''));
      send(202, '', rate);
      return;
    }
    if (recorded.method === 'GET' && recorded.path === '/api/accounts') {
      send(200, fixture('get-accounts.json'), rate);
      return;
    }
    if (recorded.method === 'POST' && recorded.path === '/api/events') {
      if (!recorded.contentType?.startsWith('application/vnd.api+json') && !recorded.contentType?.startsWith('application/json')) {
        send(415, jsonApiError(415, 'unsupported_media_type', 'Unsupported media type.', 'Use application/vnd.api+json'), rate);
        return;
      }
      const problem = eventBodyProblem(body);
      if (problem) {
        send(400, jsonApiError(400, 'invalid', 'Invalid input.', problem), rate);
        return;
      }
      const a = (body as { data: { attributes: Record<string, unknown> } }).data.attributes;
      const metric = ((a.metric as { data: { attributes: { name: string } } }).data.attributes.name);
      const profile = (a.profile as { data: { attributes: Record<string, unknown> } }).data.attributes;
      const email = typeof profile.email === 'string' ? profile.email : null;
      const uniqueId = typeof a.unique_id === 'string' ? a.unique_id : `${email}/${metric}/${String(a.time)}`;
      const key = `${email}|${metric}|${uniqueId}`;
      if (!this.events.has(key)) {
        this.events.set(key, {
          uniqueId,
          metric,
          email,
          properties: a.properties as Record<string, unknown>,
          value: typeof a.value === 'number' ? a.value : null,
          time: typeof a.time === 'string' ? a.time : null,
        });
      }
      send(202, '', rate);
      return;
    }
    send(404, jsonApiError(404, 'not_found', 'Not found.', `No route for ${recorded.method} ${recorded.path}`), rate);
  }
}

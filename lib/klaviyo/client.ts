import 'server-only';
import { env } from '@/lib/env';

/**
 * Klaviyo's JSON:API, as one small client: events, the key check, profile import, list
 * membership and profile deletion. The revision is pinned so a change on Klaviyo's side cannot change our
 * requests; the base URL comes from KLAVIYO_API_URL so tests talk to a local stand-in.
 * Every call returns an outcome instead of throwing, so the caller decides what each one
 * means for its message: sent, later (429, with the time Klaviyo asked for), again (5xx, a
 * timeout), never (a request Klaviyo will not take), or not with this key.
 */
export const KLAVIYO_REVISION = '2026-07-15';
const CONTENT_TYPE = 'application/vnd.api+json';
const TIMEOUT_MS = 10_000;

/** The steady window's state, from the RateLimit-* headers Klaviyo sends on every non-429 answer. */
export interface RateState {
  limit: number | null;
  remaining: number | null;
  resetSeconds: number | null;
}

export type KlaviyoOutcome =
  | { ok: true; status: number; rate: RateState; body: unknown }
  | { ok: false; kind: 'rate_limited'; status: 429; retryAfterMs: number; rate: RateState; detail: string }
  | { ok: false; kind: 'unauthorized'; status: number; rate: RateState; detail: string }
  | { ok: false; kind: 'rejected'; status: number; rate: RateState; detail: string }
  | { ok: false; kind: 'unavailable'; status: number | null; rate: RateState; detail: string };

/** A Klaviyo event, as our messages describe it. */
export interface KlaviyoEvent {
  uniqueId: string;
  metric: string;
  properties: Record<string, unknown>;
  value?: number;
  valueCurrency?: string;
  time: string;
  profile: { email: string; first_name?: string; last_name?: string; external_id?: string; properties?: Record<string, unknown> };
}

const NO_RATE: RateState = { limit: null, remaining: null, resetSeconds: null };

function headerNumber(headers: Headers, name: string): number | null {
  const raw = headers.get(name);
  if (raw === null) return null;
  // IETF drafts allow "100, 100;w=60": the first number is the one that applies.
  const n = Number.parseFloat(raw.split(',')[0] ?? '');
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export function readRate(headers: Headers): RateState {
  return {
    limit: headerNumber(headers, 'ratelimit-limit'),
    remaining: headerNumber(headers, 'ratelimit-remaining'),
    resetSeconds: headerNumber(headers, 'ratelimit-reset'),
  };
}

/** Retry-After in milliseconds: seconds or an HTTP date; 1 s when absent or unreadable, at most an hour. */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  if (value === null || value.trim() === '') return 1000;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return 1000;
  return Math.min(Math.max(Math.ceil(ms), 0), 3_600_000);
}

/** What went wrong, from a JSON:API error body or whatever else came back; short, and never the request. */
function errorDetail(status: number, text: string): string {
  let detail = '';
  try {
    const body = JSON.parse(text) as { errors?: { title?: unknown; detail?: unknown }[] };
    const first = body.errors?.[0];
    if (first) detail = [first.title, first.detail].filter((x) => typeof x === 'string' && x).join(': ');
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the status says enough.
  }
  return `Klaviyo answered ${status}${detail ? `: ${detail}` : ''}`.slice(0, 300);
}

export class KlaviyoClient {
  constructor(
    private readonly apiKey: string,
    private readonly baseUrl: string = env().KLAVIYO_API_URL,
  ) {}

  /** `accept`: the statuses that mean done (Create Event: only 202; anything else is not "sent"). */
  private async request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, accept?: number[]): Promise<KlaviyoOutcome> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          authorization: `Klaviyo-API-Key ${this.apiKey}`,
          revision: KLAVIYO_REVISION,
          accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { ok: false, kind: 'unavailable', status: null, rate: NO_RATE, detail: timedOut ? 'Klaviyo did not answer in 10 s' : 'Klaviyo could not be reached' };
    }
    const text = await res.text().catch(() => '');
    const rate = readRate(res.headers);
    if (res.ok && accept && !accept.includes(res.status)) {
      return { ok: false, kind: 'unavailable', status: res.status, rate, detail: `Klaviyo answered ${res.status}, not ${accept.join(' or ')}` };
    }
    if (res.ok) {
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      return { ok: true, status: res.status, rate, body: parsed };
    }
    const detail = errorDetail(res.status, text);
    if (res.status === 429) {
      return { ok: false, kind: 'rate_limited', status: 429, retryAfterMs: retryAfterMs(res.headers.get('retry-after')), rate, detail };
    }
    if (res.status === 401 || res.status === 403) return { ok: false, kind: 'unauthorized', status: res.status, rate, detail };
    if (res.status >= 500 || res.status === 408) return { ok: false, kind: 'unavailable', status: res.status, rate, detail };
    return { ok: false, kind: 'rejected', status: res.status, rate, detail };
  }

  /** POST /api/events: 202 means Klaviyo has it; `unique_id` makes a repeat count once. */
  createEvent(event: KlaviyoEvent): Promise<KlaviyoOutcome> {
    return this.request('POST', '/api/events', {
      data: {
        type: 'event',
        attributes: {
          properties: event.properties,
          time: event.time,
          ...(event.value === undefined ? {} : { value: event.value }),
          ...(event.valueCurrency === undefined ? {} : { value_currency: event.valueCurrency }),
          unique_id: event.uniqueId,
          metric: { data: { type: 'metric', attributes: { name: event.metric } } },
          profile: { data: { type: 'profile', attributes: event.profile } },
        },
      },
    }, [202]);
  }

  /** POST /api/lists: a new list; its id is in `body.data.id`. */
  createList(name: string): Promise<KlaviyoOutcome> {
    return this.request('POST', '/api/lists', { data: { type: 'list', attributes: { name: name.slice(0, 200) } } }, [200, 201]);
  }

  /**
   * POST /api/profile-bulk-import-jobs: create or update up to 10,000 profiles (by email) and,
   * with `listId`, add them all to that list. Klaviyo answers 202 and imports in the background.
   */
  bulkImportProfiles(profiles: KlaviyoEvent['profile'][], listId?: string): Promise<KlaviyoOutcome> {
    return this.request('POST', '/api/profile-bulk-import-jobs', {
      data: {
        type: 'profile-bulk-import-job',
        attributes: { profiles: { data: profiles.map((attributes) => ({ type: 'profile', attributes })) } },
        ...(listId ? { relationships: { lists: { data: [{ type: 'list', id: listId }] } } } : {}),
      },
    }, [202]);
  }

  /** GET /api/profiles filtered by up to 100 emails: the profiles Klaviyo has for them (id and email). */
  profilesByEmail(emails: string[]): Promise<KlaviyoOutcome> {
    const filter = `any(email,${JSON.stringify(emails.slice(0, 100))})`;
    return this.request('GET', `/api/profiles?${new URLSearchParams({ filter, 'fields[profile]': 'email', 'page[size]': '100' })}`);
  }

  /** DELETE /api/lists/:id/relationships/profiles: take up to 1,000 profiles (by id) off a list. */
  removeFromList(listId: string, profileIds: string[]): Promise<KlaviyoOutcome> {
    return this.request('DELETE', `/api/lists/${encodeURIComponent(listId)}/relationships/profiles`,
      { data: profileIds.slice(0, 1000).map((id) => ({ type: 'profile', id })) }, [202, 204]);
  }

  /**
   * POST /api/data-privacy-deletion-jobs: delete every profile with this email (a GDPR
   * deletion, done by Klaviyo in the background). 202 means Klaviyo has the request.
   */
  requestProfileDeletion(email: string): Promise<KlaviyoOutcome> {
    return this.request('POST', '/api/data-privacy-deletion-jobs', {
      data: {
        type: 'data-privacy-deletion-job',
        attributes: { profile: { data: { type: 'profile', attributes: { email } } } },
      },
    }, [202]);
  }

  /** GET /api/accounts: the cheapest authenticated call, to tell whether a key works. */
  getAccounts(): Promise<KlaviyoOutcome> {
    return this.request('GET', '/api/accounts');
  }
}

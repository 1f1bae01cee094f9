import { beforeAll, describe, expect, it } from 'vitest';
import { GET as integrations } from '@/app/api/settings/integrations/route';
import { OPTIONS, POST as trackRoute } from '@/app/api/track/route';
import { CRON_JOBS } from '@/lib/cron/jobs';
import { db } from '@/lib/db';
import type { IntegrationsView } from '@/lib/settings/schemas';
import { call } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let a: TestMerchant;
let key: string;

beforeAll(async () => {
  a = await createMerchant('track');
  key = (await call<IntegrationsView>(integrations, '/api/settings/integrations', { cookie: a.cookie })).body.tracking.publishableKey;
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  call<Record<string, unknown>>(trackRoute, '/api/track', { body, headers: { origin: 'https://storefront.example', ...headers } });

const count = async (email: string) => {
  const [r] = await db()<{ n: number }[]>`
    select count(t.id)::int as n from public.touchpoints t join public.customers c on c.id = t.customer_id
     where c.user_id = ${a.userId} and c.email = ${email}`;
  return r?.n ?? 0;
};

describe('POST /api/track', () => {
  it('accepts a batch from any storefront origin (CORS) and records every event', async () => {
    const events = Array.from({ length: 50 }, (_, i) => ({
      type: i === 0 ? 'lead_capture' : 'page_view', channel: 'pinterest', email: ' Shopper@Example.test ',
      collection: 'grounding', utm: { source: 'pinterest', campaign: 'fall' }, metadata: { page: `/p/${i}` },
      occurredAt: new Date(Date.now() - (i === 0 ? 60_000 : 30_000)).toISOString(),
    }));
    const res = await post({ key, events });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 50 });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await count('shopper@example.test')).toBe(50);
    const customer = async () => (await db()<{ stage: string; primaryCollection: string | null }[]>`
      select stage, primary_collection from public.customers where user_id = ${a.userId} and email = 'shopper@example.test'`)[0];
    // Stored at once; folded into the customer by the touchpoints cron (what is queued before
    // the fold is tests/journey/touchpoint-fold.test.ts's; another file's cron may fold it first).
    await CRON_JOBS.touchpoints?.(new Date());
    expect(await customer()).toEqual({ stage: 'prospect', primaryCollection: 'grounding' });
  });

  it('answers a CORS preflight', () => {
    const res = OPTIONS();
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('answers 401 for a wrong key and stores nothing', async () => {
    const res = await post({ key: 'pk_00000000000000000000000000000000', events: [{ type: 'page_view', channel: 'direct', email: 'x1@example.test' }] });
    expect(res).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await count('x1@example.test')).toBe(0);
  });

  it('answers 400 naming the index and field of one bad event, and stores none of the batch', async () => {
    const events = [
      { type: 'page_view', channel: 'direct', email: 'batch@example.test' },
      { type: 'page_view', channel: 'direct', email: 'batch@example.test' },
      { type: 'page_view', channel: 'telepathy', email: 'batch@example.test' },
    ];
    const res = await post({ key, events });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'bad_request', field: 'events.2.channel' });
    expect(String(res.body.error)).toMatch(/^events\.2\.channel: /);
    expect(await count('batch@example.test')).toBe(0);
  });

  it.each([
    [{ type: 'purchase', channel: 'direct', email: 'p@example.test' }, 'events.0.type'],
    [{ type: 'page_view', channel: 'direct', email: 'not-an-email' }, 'events.0.email'],
    [{ type: 'page_view', channel: 'direct', email: 'f@example.test', occurredAt: '2099-01-01T00:00:00Z' }, 'events.0.occurredAt'],
    [{ type: 'page_view', channel: 'direct', email: 'v@example.test', value: -1 }, 'events.0.value'],
    [{ type: 'email_click', channel: 'email', email: 'c@example.test' }, 'events.0.type'],
    [{ type: 'lead_capture', channel: 'direct', email: 'old@example.test', occurredAt: new Date(Date.now() - 72 * 3600_000).toISOString() }, 'events.0.occurredAt'],
  ])('refuses %j', async (event, field) => {
    const res = await post({ key, events: [event] });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('refuses more than 500 events and an empty batch', async () => {
    const many = Array.from({ length: 501 }, () => ({ type: 'page_view', channel: 'direct', email: 'm@example.test' }));
    expect((await post({ key, events: many })).body).toMatchObject({ code: 'bad_request', field: 'events' });
    expect((await post({ key, events: [] })).status).toBe(400);
  });
});

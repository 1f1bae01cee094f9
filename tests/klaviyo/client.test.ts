import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KlaviyoClient } from '@/lib/klaviyo/client';
import { eventBodyProblem, KlaviyoStandIn } from '@/tests/helpers/klaviyo';

const KEY = 'pk_test_client_0123456789';
let klaviyo: KlaviyoStandIn;
beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [KEY] }).start();
});
afterAll(() => klaviyo.stop());

const event = {
  uniqueId: '0f0e2c1a-7d8b-4c55-9e61-3a2b1c0d9e8f',
  metric: 'Win-back Offer',
  properties: { code: 'WB-1234' },
  value: 20,
  time: '2026-11-30T10:00:00.000Z',
  profile: { email: 'ann@example.test', first_name: 'Ann' },
};

describe('the Klaviyo client', () => {
  it('posts an event shaped as Klaviyo documents it, and reads the 202', async () => {
    const documented = JSON.parse(readFileSync('tests/fixtures/klaviyo/create-event.json', 'utf8')) as unknown;
    expect(eventBodyProblem(documented)).toBeNull();
    const r = await new KlaviyoClient(KEY, klaviyo.url).createEvent(event);
    expect(r).toMatchObject({ ok: true, status: 202, rate: { limit: 3500 } });
    type Body = { data: { type: string; attributes: Record<string, unknown> } };
    const ours = (klaviyo.sent().at(-1)?.body as Body).data;
    const theirs = (documented as Body).data;
    // Our body has the documented example's structure: the same type, no attribute it lacks.
    expect(ours.type).toBe(theirs.type);
    for (const k of Object.keys(ours.attributes)) expect(theirs.attributes).toHaveProperty(k);
    expect(ours.attributes).toMatchObject({
      unique_id: event.uniqueId,
      metric: { data: { type: 'metric', attributes: { name: 'Win-back Offer' } } },
      profile: { data: { type: 'profile', attributes: { email: 'ann@example.test', first_name: 'Ann' } } },
    });
  });

  it('tells apart a refused key, a rejected request, a rate limit and an outage, whatever the body', async () => {
    expect(await new KlaviyoClient('pk_wrong', klaviyo.url).createEvent(event)).toMatchObject({
      ok: false, kind: 'unauthorized', status: 401, detail: 'Klaviyo answered 401: Authentication credentials were not provided.: Missing or invalid private key.',
    });
    const c = new KlaviyoClient(KEY, klaviyo.url);
    expect(await c.createEvent({ ...event, metric: 'x'.repeat(130) })).toMatchObject({ ok: false, kind: 'rejected', status: 400 });
    klaviyo.script.push({ status: 429, retryAfter: '3' });
    expect(await c.createEvent(event)).toMatchObject({ ok: false, kind: 'rate_limited', retryAfterMs: 3000 });
    klaviyo.script.push({ status: 502, body: '<html><body>Bad gateway</body></html>' });
    expect(await c.createEvent(event)).toMatchObject({ ok: false, kind: 'unavailable', status: 502, detail: 'Klaviyo answered 502' });
    expect(await new KlaviyoClient(KEY, 'http://127.0.0.1:9').createEvent(event)).toMatchObject({
      ok: false, kind: 'unavailable', status: null, detail: 'Klaviyo could not be reached',
    });
  });

  it('checks a key with the account call', async () => {
    const r = await new KlaviyoClient(KEY, klaviyo.url).getAccounts();
    expect(r).toMatchObject({ ok: true, status: 200, body: { data: [{ type: 'account' }] } });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as checkRoute } from '@/app/api/settings/integrations/klaviyo/check/route';
import { GET as integrationsGet, PUT as integrationsPut } from '@/app/api/settings/integrations/route';
import { db } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { integrationsViewSchema } from '@/lib/settings/schemas';
import { call } from '@/tests/helpers/http';
import { KlaviyoStandIn } from '@/tests/helpers/klaviyo';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

const KEY = 'pk_test_settings_0123456789';
let klaviyo: KlaviyoStandIn;
let m: TestMerchant;
beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [KEY] }).start();
  process.env.KLAVIYO_API_URL = klaviyo.url;
  reloadEnv();
  m = await createMerchant('klaviyo-settings');
});
afterAll(() => klaviyo.stop());

type View = { klaviyo: { health: { connection: { ok: boolean; detail: string } | null; held: number; failed: number; lastProblem: { reason: string } | null } } };
const view = async () => {
  const res = await call<View>(integrationsGet, '/api/settings/integrations', { cookie: m.cookie });
  expect(integrationsViewSchema.parse(res.body)).toEqual(res.body);
  return res.body.klaviyo.health;
};
const put = (klaviyoApiKey: string | null) => call(integrationsPut, '/api/settings/integrations', { method: 'PUT', cookie: m.cookie, body: { klaviyoApiKey } });
const check = () => call<{ ok: boolean; detail: string }>(checkRoute, '/api/settings/integrations/klaviyo/check', { method: 'POST', cookie: m.cookie });

describe('whether the Klaviyo key works, in Settings', () => {
  it('says nothing before a key, checks one with a cheap authenticated call, and forgets the check when the key changes', async () => {
    expect((await check()).status).toBe(404);
    expect(await view()).toMatchObject({ connection: null, held: 0, failed: 0, lastProblem: null });

    await put(KEY);
    const ok = await check();
    expect(ok.body).toMatchObject({ ok: true, detail: 'Account: Haven Hub Demo' });
    expect(klaviyo.sent('/api/accounts').at(-1)).toMatchObject({ method: 'GET', apiKey: KEY, revision: '2026-07-15' });
    expect((await view()).connection).toMatchObject({ ok: true });

    await put('pk_test_wrong_key_000');
    expect((await view()).connection).toBeNull();
    const refused = await check();
    expect(refused.body.ok).toBe(false);
    expect(refused.body.detail).toContain('Klaviyo answered 401');
    expect(refused.body.detail).not.toContain('pk_test_wrong');
  });

  it('shows how many messages are held or failed, and the latest reason', async () => {
    await put(null);
    const [c] = await db()<{ id: string }[]>`insert into public.customers (user_id, email) values (${m.userId}, 'held@example.test') returning id`;
    await db()`insert into public.klaviyo_messages (user_id, source, customer_id, metric, status, hold, reason)
               values (${m.userId}, 'test', ${c?.id ?? ''}, 'Win-back Offer', 'held', 'no_key', 'No Klaviyo API key: add one in Settings, Integrations')`;
    expect(await view()).toMatchObject({ held: 1, failed: 0, lastProblem: { reason: 'No Klaviyo API key: add one in Settings, Integrations' } });
  });
});

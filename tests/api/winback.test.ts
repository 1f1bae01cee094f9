import { beforeAll, describe, expect, it } from 'vitest';
import { POST as activateRoute } from '@/app/api/winback/campaigns/[id]/activate/route';
import { POST as completeRoute } from '@/app/api/winback/campaigns/[id]/complete/route';
import { GET as messagesRoute } from '@/app/api/winback/campaigns/[id]/messages/route';
import { POST as retryRoute } from '@/app/api/winback/campaigns/[id]/messages/retry/route';
import { POST as pauseRoute } from '@/app/api/winback/campaigns/[id]/pause/route';
import { GET as previewRoute } from '@/app/api/winback/campaigns/[id]/preview/route';
import { GET as recipientsRoute } from '@/app/api/winback/campaigns/[id]/recipients/route';
import { POST as resumeRoute } from '@/app/api/winback/campaigns/[id]/resume/route';
import { GET as resultsRoute } from '@/app/api/winback/campaigns/[id]/results/route';
import { DELETE as campaignDelete, GET as campaignGet, PATCH as campaignPatch } from '@/app/api/winback/campaigns/[id]/route';
import { GET as listRoute, POST as createRoute } from '@/app/api/winback/campaigns/route';
import { POST as draftPreviewRoute } from '@/app/api/winback/preview/route';
import { GET as openRoute } from '@/app/api/track/winback/[token]/open/route';
import { GET as clickRoute } from '@/app/api/track/winback/[token]/route';
import { db } from '@/lib/db';
import type { RouteHandler } from '@/lib/api/handler';
import { audienceSchema, campaignListSchema, campaignWithFiguresSchema, messageListSchema, recipientPageSchema, resultsSchema } from '@/lib/winback/schemas';
import { call } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { atRiskCustomers, figures } from '@/tests/helpers/winback';

type Body = Record<string, unknown> & { error?: string; field?: string };
let a: TestMerchant;
let b: TestMerchant;
const as = (m: TestMerchant) => ({ cookie: m.cookie });
const create = (m: TestMerchant, body: unknown) => call<Body & { id: string; status: string }>(createRoute, '/api/winback/campaigns', { ...as(m), body });
const step = (handler: RouteHandler, m: TestMerchant, id: string) =>
  call<Body & { campaign: { status: string }; result: Record<string, unknown> }>(handler, `/api/winback/campaigns/${id}/x`, { method: 'POST', ...as(m), params: { id } });

beforeAll(async () => {
  a = await createMerchant('winback-api-a');
  b = await createMerchant('winback-api-b');
  await atRiskCustomers(a.userId, 12, 'api-a');
  await atRiskCustomers(b.userId, 3, 'api-b');
});

describe('creating and editing campaigns', () => {
  it('creates a draft with defaults, and refuses bad input with the field named, changing nothing', async () => {
    const res = await create(a, { name: 'Spring win-back', incentiveType: 'percentage_discount', incentiveValue: 15, holdoutPercent: 20 });
    expect(res.status).toBe(201);
    expect(campaignWithFiguresSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toMatchObject({
      status: 'draft', targetStages: ['at_risk', 'churned'], attributionDays: 30, holdoutPercent: 20, sendDelayDays: 0,
      figures: { targeted: 0, sent: 0, recovered: 0, revenue: 0 },
    });
    const [{ n: before = 0 } = {}] = await db()<{ n: number }[]>`select count(*)::int as n from public.winback_campaigns where user_id = ${a.userId}`;
    const bad: [unknown, string][] = [
      [{}, 'name'],
      [{ name: 'x', holdoutPercent: 60 }, 'holdoutPercent'],
      [{ name: 'x', incentiveType: 'percentage_discount', incentiveValue: 150 }, 'incentiveValue'],
      [{ name: 'x', incentiveType: 'none', incentiveValue: 5 }, 'incentiveValue'],
      [{ name: 'x', incentiveType: 'points', incentiveValue: 10.5 }, 'incentiveValue'],
      [{ name: 'x', minDaysInactive: 90, maxDaysInactive: 30 }, 'maxDaysInactive'],
      [{ name: 'x', targetStages: ['vip'] }, 'targetStages'],
      [{ name: 'x', targetCollections: ['not-ours'] }, 'targetCollections'],
      [{ name: 'x', endsAt: '2020-01-01T00:00:00Z' }, 'endsAt'],
      // Nothing a client sends sets ids, tenant, status or counters.
      [{ name: 'x', status: 'active' }, ''],
      [{ name: 'x', userId: b.userId }, ''],
      [{ name: 'x', emailsSent: 5 }, ''],
    ];
    for (const [body, field] of bad) {
      const r = await create(a, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (field) expect(r.body.field, JSON.stringify(body)).toMatch(new RegExp(`^${field}(\\.|$)`));
    }
    const [{ n: after = 0 } = {}] = await db()<{ n: number }[]>`select count(*)::int as n from public.winback_campaigns where user_id = ${a.userId}`;
    expect(after).toBe(before);
  });

  it('lets a draft change freely, a running campaign only its name, description and end', async () => {
    const { body: draft } = await create(a, { name: 'Edit me' });
    const patched = await call<Body>(campaignPatch, `/api/winback/campaigns/${draft.id}`, {
      method: 'PATCH', ...as(a), params: { id: draft.id }, body: { sendDelayDays: 3, incentiveType: 'free_shipping', targetCollections: ['growth'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ sendDelayDays: 3, incentiveType: 'free_shipping', targetCollections: ['growth'] });
    // Cross-field rules are checked on the merged campaign.
    const merged = await call<Body>(campaignPatch, `/api/winback/campaigns/${draft.id}`, {
      method: 'PATCH', ...as(a), params: { id: draft.id }, body: { incentiveType: 'fixed_discount' },
    });
    expect(merged).toMatchObject({ status: 400, body: { field: 'incentiveValue' } });

    expect((await step(activateRoute, a, draft.id)).status).toBe(200);
    const locked = await call<Body>(campaignPatch, `/api/winback/campaigns/${draft.id}`, {
      method: 'PATCH', ...as(a), params: { id: draft.id }, body: { holdoutPercent: 40 },
    });
    expect(locked).toMatchObject({ status: 409, body: { field: 'holdoutPercent' } });
    const renamed = await call<Body>(campaignPatch, `/api/winback/campaigns/${draft.id}`, {
      method: 'PATCH', ...as(a), params: { id: draft.id }, body: { name: 'Renamed', endsAt: '2099-06-01T00:00:00Z' },
    });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'Renamed', endsAt: '2099-06-01T00:00:00.000Z' } });
    // A campaign that has run is not deleted (its results stay); a draft is.
    expect((await call(campaignDelete, '/x', { method: 'DELETE', ...as(a), params: { id: draft.id } })).status).toBe(409);
    const { body: gone } = await create(a, { name: 'Delete me' });
    expect((await call(campaignDelete, '/x', { method: 'DELETE', ...as(a), params: { id: gone.id } })).status).toBe(200);
    expect((await call(campaignGet, '/x', { ...as(a), params: { id: gone.id } })).status).toBe(404);
  });
});

describe('the lifecycle through the API', () => {
  it('previews, activates, pauses, resumes and completes, with 409 for a step from the wrong status', async () => {
    // Customers who slipped away for this campaign: those of the campaigns above are inside their windows.
    await atRiskCustomers(a.userId, 8, 'api-life');
    const { body: c } = await create(a, { name: 'Lifecycle', holdoutPercent: 25 });
    const preview = await call<Body>(previewRoute, '/x', { ...as(a), params: { id: c.id } });
    expect(audienceSchema.parse(preview.body)).toEqual(preview.body);
    expect(preview.body.eligible).toBeGreaterThan(0);
    const live = await call<Body>(draftPreviewRoute, '/api/winback/preview', {
      ...as(a), body: { campaignId: c.id, fields: { holdoutPercent: 25, minLifetimeValue: 1000 } },
    });
    expect(live).toMatchObject({ status: 200, body: { eligible: 0 } });
    // The form's numbers with the stored fields agree with the stored campaign's preview.
    expect((await call<Body>(draftPreviewRoute, '/api/winback/preview', { ...as(a), body: { campaignId: c.id, fields: {} } })).body).toEqual(preview.body);

    expect((await step(pauseRoute, a, c.id)).status).toBe(409);
    const activated = await step(activateRoute, a, c.id);
    expect(activated.body).toMatchObject({ campaign: { status: 'active' } });
    expect(activated.body.result).toMatchObject({ enrolled: { treatment: preview.body.treatment, control: preview.body.control } });
    expect((await step(pauseRoute, a, c.id)).body).toMatchObject({ campaign: { status: 'paused' } });
    expect((await step(activateRoute, a, c.id)).status).toBe(409);
    expect((await step(resumeRoute, a, c.id)).body).toMatchObject({ campaign: { status: 'active' } });
    expect((await step(completeRoute, a, c.id)).body).toMatchObject({ campaign: { status: 'completed' } });
    expect((await step(resumeRoute, a, c.id)).status).toBe(409);

    const recipients = await call<Body>(recipientsRoute, '/x', { ...as(a), params: { id: c.id } });
    expect(recipientPageSchema.parse(recipients.body)).toEqual(recipients.body);
    const results = await call<Body>(resultsRoute, '/x', { ...as(a), params: { id: c.id } });
    expect(resultsSchema.parse(results.body)).toEqual(results.body);
    expect(results.body).toMatchObject({ comparison: { enoughData: false, minimumGroup: 30 } });
    const list = await call<Body>(listRoute, '/api/winback/campaigns', as(a));
    expect(campaignListSchema.parse(list.body)).toEqual(list.body);
  });

  it('pages recipients by id, filters by status and counts each status', async () => {
    await atRiskCustomers(a.userId, 7, 'api-pages');
    const { body: c } = await create(a, { name: 'Pages', holdoutPercent: 50 });
    await step(activateRoute, a, c.id);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const query: string = new URLSearchParams({ limit: '2', ...(after ? { after } : {}) }).toString();
      const page = await call<{ recipients: { id: string }[]; next: string | null; counts: Record<string, number> }>(
        recipientsRoute, `/x?${query}`, { ...as(a), params: { id: c.id } });
      expect(page.status).toBe(200);
      seen.push(...page.body.recipients.map((r) => r.id));
      after = page.body.next;
    } while (after);
    expect(new Set(seen).size).toBe(seen.length);
    const all = await call<{ counts: Record<string, number> }>(recipientsRoute, '/x', { ...as(a), params: { id: c.id } });
    expect(seen.length).toBe(Object.values(all.body.counts).reduce((x, y) => x + y, 0));
    const control = await call<{ recipients: { arm: string; status: string }[] }>(recipientsRoute, '/x?status=control', { ...as(a), params: { id: c.id } });
    expect(control.body.recipients.every((r) => r.arm === 'control' && r.status === 'control')).toBe(true);
    expect(control.body.recipients).toHaveLength(all.body.counts.control ?? 0);
    expect((await call(recipientsRoute, '/x?status=bogus', { ...as(a), params: { id: c.id } })).status).toBe(400);
    expect((await call(recipientsRoute, '/x?limit=1000', { ...as(a), params: { id: c.id } })).status).toBe(400);
  });

  it('lists held messages (no key here) and retries only failed ones', async () => {
    await atRiskCustomers(a.userId, 3, 'api-msgs');
    const { body: c } = await create(a, { name: 'Messages', holdoutPercent: 0 });
    await step(activateRoute, a, c.id);
    await db()`update public.klaviyo_messages m set status = 'held', hold = 'no_key', reason = 'No Klaviyo API key: add one in Settings, Integrations'
                from public.winback_recipients r where r.user_id = ${a.userId} and r.campaign_id = ${c.id} and m.user_id = r.user_id and m.id = r.message_id`;
    const [one] = await db()<{ id: string }[]>`
      update public.klaviyo_messages m set status = 'failed', hold = null, reason = 'Klaviyo answered 400'
        where m.id = (select r.message_id from public.winback_recipients r where r.user_id = ${a.userId} and r.campaign_id = ${c.id} limit 1)
      returning m.id`;
    const listed = await call<Body & { messages: { id: string; status: string }[] }>(messagesRoute, '/x', { ...as(a), params: { id: c.id } });
    expect(messageListSchema.parse(listed.body)).toEqual(listed.body);
    expect(listed.body).toMatchObject({ failed: 1 });
    expect(listed.body.messages[0]).toMatchObject({ id: one?.id, status: 'failed', reason: 'Klaviyo answered 400' });
    const retried = await call<Body>(retryRoute, '/x', { ...as(a), params: { id: c.id }, body: {} });
    expect(retried.body).toEqual({ retried: 1 });
    const [m] = await db()<{ status: string }[]>`select status from public.klaviyo_messages where id = ${one?.id ?? ''}`;
    expect(m?.status).toBe('pending');
    expect((await call(retryRoute, '/x', { ...as(a), params: { id: c.id }, body: { ids: ['nope'] } })).status).toBe(400);
  });
});

describe('tracked opens and clicks from the email', () => {
  it('records a click through the link (and the open it implies) once, then sends the shopper to the shop', async () => {
    await atRiskCustomers(a.userId, 12, 'api-track');
    const { body: c } = await create(a, { name: 'Tracked', holdoutPercent: 50 });
    await step(activateRoute, a, c.id);
    await db()`update public.merchant_settings set shop_domain = 'tracked-shop.myshopify.com' where user_id = ${a.userId}`;
    // As the worker records a send (the claim, then Klaviyo's 202), with a key on file.
    await db()`insert into public.merchant_credentials (user_id, provider, ciphertext, last4) values (${a.userId}, 'klaviyo', 'v1.test', 'test')
               on conflict (user_id, provider) do nothing`;
    const [sent] = await db()<{ token: string; messageId: string }[]>`
      select tracking_token as token, message_id from public.winback_recipients
       where user_id = ${a.userId} and campaign_id = ${c.id} and arm = 'treatment' limit 1`;
    const [held] = await db()<{ token: string }[]>`
      select tracking_token as token from public.winback_recipients where user_id = ${a.userId} and campaign_id = ${c.id} and arm = 'control' limit 1`;
    await db()`select private.klaviyo_claim(${a.userId}, ${sent?.messageId ?? ''})`;
    await db()`select private.klaviyo_result(${a.userId}, ${sent?.messageId ?? ''}, 'sent', null, null, now(), 1)`;
    const token = sent?.token ?? '';

    const click = await call(clickRoute, `/api/track/winback/${token}?to=/collections/new`, { params: { token } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://tracked-shop.myshopify.com/collections/new');
    await call(clickRoute, `/api/track/winback/${token}`, { params: { token } });
    const pixel = await call(openRoute, `/api/track/winback/${token}/open`, { params: { token } });
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
    expect(await figures(a.userId, c.id)).toMatchObject({ sent: 1, opened: 1, clicked: 1 });

    // A control recipient's token moves nothing; unknown tokens and other sites are refused.
    await call(clickRoute, '/x', { params: { token: held?.token ?? '' } });
    expect(await figures(a.userId, c.id)).toMatchObject({ opened: 1, clicked: 1 });
    expect((await call(clickRoute, '/x', { params: { token: '0'.repeat(32) } })).status).toBe(404);
    expect((await call(openRoute, '/x', { params: { token: '0'.repeat(32) } })).status).toBe(200);
    expect((await call(clickRoute, '/x', { params: { token: 'not-a-token' } })).status).toBe(400);
    for (const to of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
      expect((await call(clickRoute, `/x?to=${encodeURIComponent(to)}`, { params: { token } })).status, to).toBe(400);
    }
  });
});

describe('another merchant\'s campaign', () => {
  it('is 404 on every route, and changes nothing', async () => {
    const { body: c } = await create(a, { name: 'Private' });
    const id = c.id;
    const params = { id };
    const attempts: [string, Promise<{ status: number }>][] = [
      ['get', call(campaignGet, '/x', { ...as(b), params })],
      ['patch', call(campaignPatch, '/x', { method: 'PATCH', ...as(b), params, body: { name: 'Mine now' } })],
      ['delete', call(campaignDelete, '/x', { method: 'DELETE', ...as(b), params })],
      ['preview', call(previewRoute, '/x', { ...as(b), params })],
      ['draft preview', call(draftPreviewRoute, '/x', { ...as(b), body: { campaignId: id, fields: {} } })],
      ['recipients', call(recipientsRoute, '/x', { ...as(b), params })],
      ['results', call(resultsRoute, '/x', { ...as(b), params })],
      ['messages', call(messagesRoute, '/x', { ...as(b), params })],
      ['retry', call(retryRoute, '/x', { ...as(b), params, body: {} })],
      ['activate', step(activateRoute, b, id)],
      ['pause', step(pauseRoute, b, id)],
      ['resume', step(resumeRoute, b, id)],
      ['complete', step(completeRoute, b, id)],
    ];
    for (const [label, p] of attempts) expect((await p).status, label).toBe(404);
    const [row] = await db()<{ name: string; status: string }[]>`select name, status from public.winback_campaigns where id = ${id}`;
    expect(row).toEqual({ name: 'Private', status: 'draft' });
    expect((await call<{ campaigns: { id: string }[] }>(listRoute, '/x', as(b))).body.campaigns.some((x) => x.id === id)).toBe(false);
    // Without a session, nothing at all.
    expect((await call(listRoute, '/x')).status).toBe(401);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, snap } from '@/tests/browser/browser';
import { DEMO_EMAIL, DEMO_PASSWORD } from '@/lib/demo/seed';

const baseUrl = inject('baseUrl');
let browser: Browser;
let page: Page;

const table = () => page.getByRole('table').first();
const stageBadges = () => table().locator('tbody [data-stage]');
const countOf = (text: string | null) => Number((text ?? '').replace(/[^0-9]/g, ''));

beforeAll(async () => {
  browser = await launchBrowser();
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
});

describe('customer journey in a real browser (seeded demo merchant)', () => {
  it('signs in as the demo merchant and shows a funnel with non-zero bars', async () => {
    await page.goto('/login');
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(/\/dashboard$/);
    await page.getByRole('heading', { name: 'Customer journey funnel' }).waitFor();

    const steps = page.getByTestId('funnel-step');
    await expect(steps.count()).resolves.toBe(4);
    for (const step of await steps.all()) {
      const count = countOf(await step.locator('.font-mono').textContent());
      expect(count).toBeGreaterThan(0);
      const width = await step.getByTestId('funnel-bar').evaluate((el) => el.getBoundingClientRect().width);
      expect(width).toBeGreaterThan(4);
    }
    await page.getByRole('link', { name: /^At risk: / }).waitFor();
    // Every figure carries its definition, one keypress away; LTV is per buyer.
    const ltv = page.getByRole('button', { name: 'What “Average lifetime value” means' });
    await ltv.focus();
    await page.keyboard.press('Enter');
    await expect(ltv.getAttribute('aria-expanded')).resolves.toBe('true');
    await page.getByText(/divided by the customers with at least one order/).waitFor();
    await page.getByText(/^Per buyer · /).waitFor();
    await expect(page.getByRole('region', { name: 'Key figures' }).getByRole('button', { name: /^What “.+” means$/ }).count()).resolves.toBe(4);
    await snap(page, 'journey-overview');
  });

  it('charts revenue, orders, repeat rate, new customers, leads and stage movements over a chosen period against the one before', async () => {
    const trends = page.getByTestId('chart-revenue');
    await trends.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await trends.locator('.recharts-bar-rectangle').count()).toBeGreaterThan(10);
    await page.getByText(/% vs [A-Z][a-z]{2} \d+ – |none in [A-Z][a-z]{2} \d+ – /).first().waitFor();
    // Stage movements and the repeat rate are charted too; every figure says its time zone.
    await expect.poll(async () => page.getByTestId('chart-stages').locator('.recharts-bar-rectangle').count()).toBeGreaterThan(3);
    await expect.poll(async () => page.getByTestId('chart-repeat').locator('.recharts-line').count()).toBe(1);
    await page.getByText(/Days of your store’s time zone \(America\/New_York\)/).waitFor();
    const wonBack = page.getByRole('button', { name: 'What “Won back” means' });
    await wonBack.click();
    await page.getByText(/came back from “at risk” or “churned”.*America\/New_York\./).waitFor();

    await page.getByLabel('Period', { exact: true }).selectOption('365');
    await page.getByText('Revenue and orders per week (from Monday)').waitFor();
    await expect.poll(async () => page.getByTestId('chart-customers').locator('.recharts-line').count()).toBe(2);

    // A custom period: two dates, the charts follow; a start after the end is refused in place.
    await page.getByLabel('Period', { exact: true }).selectOption('custom');
    await page.getByLabel('From', { exact: true }).fill('2026-01-01');
    await page.getByLabel('To (included)', { exact: true }).fill('2026-01-14');
    await page.getByRole('img', { name: /^Revenue and orders per day, Jan 1, 2026 – Jan 14, 2026/ }).waitFor();
    await expect.poll(async () => page.getByTestId('chart-revenue').locator('.recharts-bar-rectangle').count()).toBeGreaterThan(3);
    await page.getByLabel('From', { exact: true }).fill('2026-02-01');
    await page.getByRole('alert').filter({ hasText: 'The start must not be after the end' }).waitFor();
    await snap(page, 'journey-trends');
  });

  it('shows cohort retention by first-order month', async () => {
    const cohorts = page.getByTestId('cohort-table');
    await cohorts.waitFor();
    const rows = cohorts.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(12);
    // The oldest cohort has eleven later months, some of them with customers who came back.
    const first = await rows.first().locator('td').allTextContents();
    expect(first).toHaveLength(12);
    expect(countOf(first[0] ?? '')).toBeGreaterThan(0);
    expect(first.slice(1).some((c) => /^[1-9]\d*%$/.test(c))).toBe(true);
    await page.getByLabel('Cohorts', { exact: true }).selectOption('6');
    await expect.poll(async () => rows.count()).toBe(6);
    await snap(page, 'journey-cohorts');
  });

  it('filters the customer list by stage, keeping the filter in the URL', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.waitForURL(/\/dashboard\/customers$/);
    await stageBadges().first().waitFor();
    await expect(page.getByText(/^1–20 of [\d,]+$/).isVisible()).resolves.toBe(true);

    await page.getByLabel('Stage', { exact: true }).selectOption('at_risk');
    await page.waitForURL(/[?&]stage=at_risk/);
    await expect.poll(async () => {
      const stages = await stageBadges().allTextContents();
      return stages.length > 0 && stages.every((s) => s === 'At risk');
    }, { timeout: 15_000 }).toBe(true);
    await snap(page, 'journey-customers-at-risk');

    // Back restores the unfiltered list; a shared ?stage= link filters on load.
    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('stage='));
    await expect(page.getByLabel('Stage', { exact: true }).inputValue()).resolves.toBe('');
    await page.goto('/dashboard/customers?stage=vip');
    await expect(page.getByLabel('Stage', { exact: true }).inputValue()).resolves.toBe('vip');
    await expect.poll(async () => {
      const stages = await stageBadges().allTextContents();
      return stages.length > 0 && stages.every((s) => s === 'VIP');
    }, { timeout: 15_000 }).toBe(true);
  });

  it('pages the customer list: next, previous, last and first, with the range each shows', async () => {
    await page.goto('/dashboard/customers');
    await stageBadges().first().waitFor();
    const pager = page.getByRole('navigation', { name: 'Customer pages' });
    const firstEmails = await table().locator('tbody a').allTextContents();
    await expect(pager.getByRole('button', { name: 'Previous' }).isDisabled()).resolves.toBe(true);
    await pager.getByRole('button', { name: 'Next' }).click();
    await page.waitForURL(/[?&]after=/);
    await pager.getByText(/^21–40 of [\d,]+$/).waitFor();
    const secondEmails = await table().locator('tbody a').allTextContents();
    expect(secondEmails.filter((e) => firstEmails.includes(e))).toEqual([]);
    await pager.getByRole('button', { name: 'Previous' }).click();
    await pager.getByText(/^1–20 of [\d,]+$/).waitFor();
    await expect.poll(() => table().locator('tbody a').allTextContents()).toEqual(firstEmails);
    await pager.getByRole('button', { name: 'Last page' }).click();
    await page.waitForURL(/[?&]end=last/);
    // The range ends at the total once the last page has loaded.
    await expect.poll(async () => {
      const [, to, of] = /–([\d,]+) of ([\d,]+)/.exec((await pager.locator('p').textContent()) ?? '') ?? [];
      return to !== undefined && countOf(to) === countOf(of ?? '');
    }, { timeout: 15_000 }).toBe(true);
    await expect(pager.getByRole('button', { name: 'Next' }).isDisabled()).resolves.toBe(true);
    await pager.getByRole('button', { name: 'First page' }).click();
    await page.waitForURL((url) => !url.search.includes('end='));
    await pager.getByText(/^1–20 of [\d,]+$/).waitFor();
  });

  it('narrows the list with a debounced search', async () => {
    await page.goto('/dashboard/customers');
    await stageBadges().first().waitFor();
    const totalBefore = countOf((await page.getByText(/^1–\d+ of [\d,]+$/).textContent())?.split(' of ')[1] ?? null);
    const email = (await table().locator('tbody a').first().textContent()) ?? '';
    const term = email.split('@')[0] ?? '';
    expect(term.length).toBeGreaterThan(2);

    await page.getByLabel('Search').fill(term);
    await page.waitForURL(/[?&]search=/);
    await expect.poll(async () => {
      const emails = await table().locator('tbody a').allTextContents();
      return emails.length > 0 && emails.length < 20 && emails.every((e) => e.toLowerCase().includes(term.toLowerCase()));
    }, { timeout: 15_000 }).toBe(true);
    const totalAfter = countOf((await page.getByText(/^1–\d+ of [\d,]+$/).textContent())?.split(' of ')[1] ?? null);
    expect(totalAfter).toBeLessThan(totalBefore);
    await snap(page, 'journey-customers-search');
  });

  it('opens a customer: timeline, stage history and why this stage', async () => {
    await page.goto('/dashboard/customers?sort=orders');
    await stageBadges().first().waitFor();
    await table().locator('tbody a').first().click();
    await page.waitForURL(/\/dashboard\/customers\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Journey timeline' }).waitFor();
    await page.getByTestId('touchpoint').first().waitFor();
    await page.getByRole('heading', { name: 'Stage history' }).waitFor();
    await page.getByRole('heading', { name: 'Why this stage' }).waitFor();
    await expect(page.getByRole('list', { name: 'Stage changes, newest first' }).getByRole('listitem').count()).resolves.toBeGreaterThan(0);
    await snap(page, 'journey-customer');

    // A shopper's request for their data: one file of everything, from every module.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export data' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^customer-[0-9a-f-]{36}-data\.json$/);
    const file = JSON.parse(await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'))) as
      { customerId: string; modules: Record<string, Record<string, unknown[]>> };
    expect(page.url()).toContain(file.customerId);
    expect(Object.keys(file.modules)).toEqual(expect.arrayContaining(['journey', 'coupons', 'loyalty', 'winback', 'klaviyo', 'gifts']));
    expect(file.modules.journey?.orders?.length).toBeGreaterThan(0);

    await page.goto('/dashboard/customers/00000000-0000-4000-8000-000000000000');
    await page.getByText('This customer does not exist').waitFor();
  });

  it('erases a customer from their page after a confirmation that says what goes, by keyboard, on a phone too', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto('/dashboard/customers?stage=lead');
      await stageBadges().first().waitFor();
      await table().locator('tbody a').first().click();
      await page.waitForURL(/\/dashboard\/customers\/[0-9a-f-]{36}$/);
      const erase = page.getByRole('button', { name: 'Erase data' });
      await erase.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Erase this customer’s personal data?' });
      await dialog.waitFor();
      await dialog.getByText('Their email, name, phone').waitFor();
      await dialog.getByText('your figures stay true').waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(390);
      await snap(page, 'customer-erase-confirm');
      // Escape keeps the customer; the confirmation is needed again.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await erase.click();
      await dialog.getByRole('button', { name: 'Erase data' }).click();
      await page.getByText('Personal data erased', { exact: true }).waitFor();
      await page.getByRole('heading', { name: 'Erased customer' }).waitFor();
      await page.getByText(/Personal data erased .*, at their request/).waitFor();
      await expect(page.getByRole('button', { name: 'Erase data' }).count()).resolves.toBe(0);
    } finally {
      await page.setViewportSize({ width: 1366, height: 900 });
    }
  });

  it('answers a shopper\'s data request from Settings: the file as JSON and a table as CSV, then marks it handled', async () => {
    await page.goto('/dashboard/settings');
    const list = page.getByRole('list', { name: 'Privacy requests, newest first' });
    const item = list.getByRole('listitem').filter({ hasText: 'Data request' }).first();
    await item.getByText('Open', { exact: true }).waitFor();
    const [json] = await Promise.all([page.waitForEvent('download'), item.getByRole('link', { name: 'JSON' }).click()]);
    expect(json.suggestedFilename()).toMatch(/^data-request-[0-9a-f-]{36}\.json$/);
    const file = JSON.parse(await (await json.createReadStream()).toArray().then((c) => Buffer.concat(c).toString('utf8'))) as
      { modules: Record<string, Record<string, unknown[]>> };
    expect(file.modules.journey?.orders?.length).toBeGreaterThan(1);
    await item.getByLabel('Table to download as CSV').selectOption('orders');
    const [csv] = await Promise.all([page.waitForEvent('download'), item.getByRole('link', { name: 'CSV' }).click()]);
    expect(csv.suggestedFilename()).toMatch(/-orders\.csv$/);
    await item.getByRole('button', { name: 'Mark handled' }).click();
    await page.getByText('Marked handled', { exact: true }).waitFor();
    await list.getByRole('listitem').filter({ hasText: 'Data request' }).first().getByText('Handled', { exact: true }).waitFor();
  });

  it('shows each scheduled job\u2019s last run, how long it took and whether it keeps up', async () => {
    const ran = await page.request.get('/api/cron/segments', { headers: { authorization: 'Bearer browser-test-cron-secret' } });
    expect(ran.status()).toBe(200);
    await page.goto('/dashboard/settings');
    const jobs = page.getByRole('list', { name: 'Scheduled jobs' });
    const segments = jobs.getByRole('listitem').filter({ hasText: 'Segments' });
    await segments.getByText(/Last run .* · took \d/).waitFor();
    await segments.getByText('Up to date', { exact: true }).waitFor();
    await jobs.getByRole('listitem').filter({ hasText: 'Gift expiry' }).getByText('Not run yet', { exact: true }).waitFor();
    await snap(page, 'settings-scheduled-jobs');
  });

  it('creates a VIP segment with a live count and shows its members', async () => {
    await page.goto('/dashboard/customers/segments');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Segments' }).getAttribute('aria-current')).resolves.toBe('page');
    await expect(nav.getByRole('link', { name: 'Customers' }).getAttribute('aria-current')).resolves.toBeNull();

    const name = `VIPs ${Date.now()}`;
    await page.getByRole('button', { name: 'Create segment' }).first().click();
    const dialog = page.getByRole('dialog');
    // A blank name is refused with the server schema's message, which goes once a name is typed.
    await dialog.getByLabel('Name').fill('   ');
    await dialog.getByRole('button', { name: 'Create segment' }).click();
    const nameError = dialog.getByRole('alert').filter({ hasText: 'Name is required' });
    await nameError.waitFor();
    await dialog.getByLabel('Name').fill(name);
    await nameError.waitFor({ state: 'detached' });
    await dialog.getByLabel('VIP', { exact: true }).check();
    await expect.poll(async () => dialog.getByTestId('segment-preview').textContent(), { timeout: 15_000 }).toMatch(/[1-9][\d,]* customers? match/);
    await snap(page, 'journey-segment-editor');
    await dialog.getByRole('button', { name: 'Create segment' }).click();
    await page.getByText('Segment created').waitFor();
    await dialog.waitFor({ state: 'detached' });

    const row = page.getByRole('row').filter({ hasText: name });
    const count = countOf(await row.getByTestId('segment-count').textContent());
    expect(count).toBeGreaterThan(0);
    // Built in the request (a demo-sized store): the segment follows changes from here on.
    await row.getByText('Follows changes', { exact: true }).waitFor();
    await page.getByRole('heading', { name: `Members of ${name}` }).waitFor();
    await expect.poll(async () => page.getByRole('table').nth(1).locator('tbody [data-stage]').allTextContents(), { timeout: 15_000 })
      .toContain('VIP');
    await snap(page, 'journey-segments');
  });

  it('keeps every dashboard page within a phone-sized viewport (390 px): nothing scrolls sideways', async () => {
    const phone = await browser.newContext({ baseURL: baseUrl, viewport: { width: 390, height: 844 } });
    const p = await phone.newPage();
    try {
      await p.goto('/login');
      await p.getByLabel('Email').fill(DEMO_EMAIL);
      await p.getByLabel('Password').fill(DEMO_PASSWORD);
      await p.getByLabel('Password').press('Enter');
      await p.waitForURL(/\/dashboard$/);
      await p.goto('/dashboard/customers');
      const first = p.getByRole('table').first().locator('tbody a').first();
      await first.waitFor();
      const detail = await first.getAttribute('href');
      const wide: string[] = [];
      for (const path of ['/dashboard', '/dashboard/customers', detail ?? '/dashboard/customers', '/dashboard/customers/segments',
        '/dashboard/campaigns/coupons', '/dashboard/settings', '/dashboard/loyalty', '/dashboard/loyalty/members',
        '/dashboard/loyalty/rewards', '/dashboard/loyalty/tiers', '/dashboard/loyalty/referrals', '/dashboard/loyalty/settings']) {
        await p.goto(path);
        await p.waitForLoadState('networkidle');
        const width = await p.evaluate(() => document.documentElement.scrollWidth);
        if (width > 390) wide.push(`${path}: ${width} px`);
      }
      expect(wide).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('answers 404 for a customer that is not there, shows the last page for a cursor past the end, and has a favicon', async () => {
    const missing = await page.goto('/dashboard/customers/00000000-0000-4000-8000-000000000000');
    expect(missing?.status()).toBe(404);
    await page.getByText('This customer does not exist').waitFor();
    expect((await page.goto('/dashboard/customers/not-an-id'))?.status()).toBe(404);

    // A cursor past the end (a bookmark whose rows have gone since) shows the last page.
    const pastEnd = Buffer.from(JSON.stringify(['ltv-desc', '-1', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    await page.goto(`/dashboard/customers?after=${pastEnd}&from=9999`);
    await page.waitForURL((url) => url.searchParams.get('end') === 'last');
    await stageBadges().first().waitFor();
    const range = await page.getByText(/^[\d,]+–[\d,]+ of [\d,]+$/).textContent();
    const [, to, of] = /–([\d,]+) of ([\d,]+)/.exec(range ?? '') ?? [];
    expect(countOf(to ?? '')).toBe(countOf(of ?? ''));

    const icon = await page.locator('link[rel="icon"]').first().getAttribute('href');
    expect(icon).toBeTruthy();
    expect((await page.request.get(icon ?? '/icon.svg')).status()).toBe(200);
  });

  it('sorts by a column header, changes the page size and exports the filtered list as CSV', async () => {
    await page.goto('/dashboard/customers?stage=vip');
    await stageBadges().first().waitFor();
    const ltvHeader = page.getByRole('columnheader', { name: /Lifetime value/ });
    await expect(ltvHeader.getAttribute('aria-sort')).resolves.toBe('descending');
    await ltvHeader.getByRole('button').click();
    await page.waitForURL(/order=asc/);
    await expect.poll(() => ltvHeader.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(async () => {
      const numbers = (await table().locator('tbody tr td:nth-child(4)').allTextContents()).map((v) => Number(v.replace(/[^0-9.]/g, '')));
      return numbers.length > 1 && numbers.every((n, i) => i === 0 || (numbers[i - 1] ?? 0) <= n);
    }, { timeout: 15_000 }).toBe(true);

    await page.getByLabel('Rows per page').selectOption('50');
    await page.waitForURL(/size=50/);
    await page.getByText(/^1–(50|[1-4]?\d) of [\d,]+$/).waitFor();

    const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    expect(href).toMatch(/stage=vip/);
    expect(href).toMatch(/format=csv/);
    const csv = await page.request.get(href ?? '');
    expect(csv.status()).toBe(200);
    const rows = (await csv.text()).trim().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.split(',')[3] === 'vip')).toBe(true);
  });
});

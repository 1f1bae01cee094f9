import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { connect, type Sql } from '@/lib/db';
import { DEMO_EMAIL, DEMO_PASSWORD } from '@/lib/demo/seed';
import { launchBrowser, snap } from '@/tests/browser/browser';

const baseUrl = inject('baseUrl');
let browser: Browser;
let page: Page;
let sql: Sql;
const email = `loyal-${Date.now()}@shop.test`;
const tab = (p: Page, name: string) => p.getByRole('navigation', { name: 'Loyalty' }).getByRole('link', { name, exact: true });

beforeAll(async () => {
  browser = await launchBrowser();
  page = await (await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } })).newPage();
  sql = connect(inject('browserDatabaseUrl'), 1);
});
afterAll(async () => {
  await browser?.close();
  await sql?.end();
});

describe('loyalty in a real browser', () => {
  it('sets up the program from its empty page', async () => {
    await page.goto('/signup');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a good long password');
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(/\/dashboard$/);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Loyalty' }).click();
    await page.getByText('Reward your customers for coming back').waitFor();
    await snap(page, 'loyalty-empty');
    await page.getByRole('button', { name: 'Set up the loyalty program' }).click();
    await page.getByText('Loyalty program set up').waitFor();
    await page.getByRole('region', { name: 'Program figures' }).waitFor();
    await tab(page, 'Tiers').click();
    await page.getByRole('cell', { name: 'Gold', exact: true }).waitFor();
  });

  it('adds a reward, redeems it for a member, and shows the code and the new balance', async () => {
    // A shopper's order arrives from the shop (through the real pipeline): 800 points.
    const [merchant] = await sql<{ id: string }[]>`select id from auth.users where email = ${email}`;
    await sql`select private.apply_order(${merchant?.id ?? ''}, ${sql.json({ shopOrderId: 'b-1', email: 'shopper@example.test', total: 800, orderedAt: new Date().toISOString(), lineItems: [] })})`;

    await tab(page, 'Rewards').click();
    await page.getByRole('button', { name: 'New reward' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('$5 off');
    await dialog.getByLabel('Points cost').fill('500');
    await dialog.getByRole('button', { name: 'Save' }).click();
    // A fixed discount needs an amount: the server schema's message, in the field.
    await dialog.getByRole('alert').filter({ hasText: 'A fixed discount needs an amount' }).waitFor();
    await dialog.getByLabel('Amount off').fill('5');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Reward added').waitFor();
    await page.getByRole('cell', { name: /\$5 off/ }).first().waitFor();

    await tab(page, 'Members').click();
    await page.getByRole('link', { name: 'shopper@example.test' }).click();
    await expect.poll(async () => page.getByTestId('member-balance').textContent()).toBe('800');
    await expect(page.getByTestId('member-tier').textContent()).resolves.toBe('Silver');
    await page.getByLabel('Reward', { exact: true }).selectOption({ label: '$5 off · 500 points' });
    await page.getByRole('button', { name: 'Redeem' }).press('Enter');
    await expect.poll(async () => page.getByTestId('redeemed-code').textContent()).toMatch(/REWARD-[1-9A-Z]{10}/);
    await expect.poll(async () => page.getByTestId('member-balance').textContent()).toBe('300');
    // A second redemption is refused for the balance, in place.
    await page.getByRole('button', { name: 'Redeem' }).click();
    await page.getByRole('alert').filter({ hasText: 'Not enough points: the balance is 300, this reward costs 500' }).waitFor();
    await page.getByTestId('ledger').getByRole('cell', { name: 'Redeemed' }).waitFor();
    await snap(page, 'loyalty-member');

    // A bonus with its reason.
    await page.getByLabel('Points', { exact: true }).fill('250');
    await page.getByLabel('Reason').fill('Sorry for the wait');
    await page.getByRole('button', { name: 'Give bonus' }).click();
    await expect.poll(async () => page.getByTestId('member-balance').textContent()).toBe('550');
  });

  it('shows the demo merchant’s program alive: figures, charts, tiers and referrals', async () => {
    const demo = await (await browser.newContext({ baseURL: baseUrl })).newPage();
    await demo.goto('/login');
    await demo.getByLabel('Email').fill(DEMO_EMAIL);
    await demo.getByLabel('Password').fill(DEMO_PASSWORD);
    await demo.getByLabel('Password').press('Enter');
    await demo.waitForURL(/\/dashboard$/);
    await demo.goto('/dashboard/loyalty');
    await demo.getByTestId('chart-points').locator('.recharts-bar-rectangle').first().waitFor();
    await demo.getByTestId('chart-tiers').locator('.recharts-bar-rectangle').first().waitFor();
    const members = await demo.getByRole('region', { name: 'Program figures' }).getByText(/^[\d,]+$/).first().textContent();
    expect(Number((members ?? '0').replace(/,/g, ''))).toBeGreaterThan(100);
    await snap(demo, 'loyalty-overview');
    await tab(demo, 'Referrals').click();
    await demo.getByRole('region', { name: 'Referral figures' }).waitFor();
    await demo.getByRole('cell', { name: /^friend\d+@demo\.test$/ }).first().waitFor();
    await snap(demo, 'loyalty-referrals');
    // The members list pages by cursor: the second page, then the last, which ends at the total.
    await tab(demo, 'Members').click();
    const pager = demo.getByRole('navigation', { name: 'Members pages' });
    await pager.getByText(/^1–20 of [\d,]+$/).waitFor();
    const memberLinks = () => demo.getByRole('table').locator('tbody a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    const firstPage = await memberLinks();
    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.getByText(/^21–40 of [\d,]+$/).waitFor();
    // Members, not names (names repeat): the second page shares none with the first.
    await expect.poll(async () => (await memberLinks()).some((href) => firstPage.includes(href))).toBe(false);
    await pager.getByRole('button', { name: 'Last page' }).click();
    await expect.poll(async () => {
      const [, to, of] = /–([\d,]+) of ([\d,]+)/.exec((await pager.locator('p').textContent()) ?? '') ?? [];
      return to !== undefined && to === of;
    }, { timeout: 15_000 }).toBe(true);
    await demo.close();
  });
});

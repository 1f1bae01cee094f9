import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DEMO_EMAIL, DEMO_PASSWORD } from '@/lib/demo/seed';
import { launchBrowser, snap } from '@/tests/browser/browser';

const baseUrl = inject('baseUrl');
let browser: Browser;
let page: Page;

async function signIn(p: Page): Promise<void> {
  await p.goto('/login');
  await p.getByLabel('Email').fill(DEMO_EMAIL);
  await p.getByLabel('Password').fill(DEMO_PASSWORD);
  await p.getByLabel('Password').press('Enter');
  await p.waitForURL(/\/dashboard$/);
}

const noSidewaysScroll = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

beforeAll(async () => {
  browser = await launchBrowser();
  page = await (await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page);
});
afterAll(async () => {
  await browser?.close();
});

describe('win-back in a real browser (seeded demo merchant)', () => {
  it('lists the demo campaigns with their status and headline results', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Win-back' }).click();
    await page.getByRole('heading', { level: 1, name: 'Win-back campaigns' }).waitFor();
    const table = page.getByRole('table', { name: /Win-back campaigns/ });
    await table.getByRole('link', { name: 'Spring win-back' }).waitFor();
    await table.getByRole('link', { name: 'Big spenders, come back' }).waitFor();
    await table.getByText('Completed').waitFor();
    await table.getByText('Active').waitFor();
    await snap(page, 'winback-list');
  });

  it('creates a draft with a live audience preview, activates it, and shows its results', async () => {
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByRole('heading', { level: 1, name: 'New win-back campaign' }).waitFor();
    await expect.poll(async () => Number((await page.getByTestId('audience-eligible').textContent())?.replace(/,/g, '') ?? 0)).toBeGreaterThan(0);
    const before = Number((await page.getByTestId('audience-eligible').textContent())?.replace(/,/g, ''));
    // Raising the lifetime value needed shrinks the audience as it is typed.
    await page.getByLabel('Lifetime value at least').fill('100000');
    await expect.poll(async () => page.getByTestId('audience-eligible').textContent()).toBe('0');
    await page.getByLabel('Lifetime value at least').fill('0');
    await expect.poll(async () => Number((await page.getByTestId('audience-eligible').textContent())?.replace(/,/g, ''))).toBe(before);
    // A bad value is refused in the field, with the rule.
    await page.getByLabel('Hold back (%)').fill('80');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter at most 50' }).waitFor();
    await page.getByLabel('Hold back (%)').fill('20');
    await page.getByLabel('Name').fill('Browser win-back');
    await snap(page, 'winback-new');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.waitForURL(/\/dashboard\/campaigns\/winback\/[0-9a-f-]{36}$/);
    await page.getByRole('region', { name: 'Audience' }).waitFor();

    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Activate' }).click();
    await page.getByText('Campaign active').waitFor();
    await page.getByRole('region', { name: 'Results' }).waitFor();
    await page.getByTestId('lift').waitFor();
    await page.getByRole('table', { name: 'Recipients' }).getByRole('row').nth(1).waitFor();
    await snap(page, 'winback-activated');
  });

  it('shows a finished campaign: funnel, recoveries over time and lift against the held-back group', async () => {
    await page.goto('/dashboard/campaigns/winback');
    await page.getByRole('link', { name: 'Spring win-back' }).click();
    await page.getByTestId('chart-funnel').locator('.recharts-bar-rectangle').first().waitFor();
    await page.getByTestId('chart-recovery').locator('.recharts-line').first().waitFor();
    await expect(page.getByTestId('lift').textContent()).resolves.toMatch(/held back/);
    await snap(page, 'winback-results');
  });

  it('says in Settings that Klaviyo is not connected, so offers wait', async () => {
    await page.goto('/dashboard/settings');
    await expect.poll(async () => page.getByTestId('klaviyo-status').textContent()).toContain('Not connected: messages to Klaviyo wait, held, until a key is saved.');
  });

  it('fits a phone: no sideways scroll on the list, the form or the results', async () => {
    const phone = await (await browser.newContext({ baseURL: baseUrl, viewport: { width: 390, height: 844 } })).newPage();
    await signIn(phone);
    for (const path of ['/dashboard/campaigns/winback', '/dashboard/campaigns/winback/new']) {
      await phone.goto(path);
      await phone.getByRole('heading', { level: 1 }).waitFor();
      await phone.waitForLoadState('networkidle');
      expect(await noSidewaysScroll(phone), path).toBe(true);
    }
    await phone.goto('/dashboard/campaigns/winback');
    await phone.getByRole('link', { name: 'Spring win-back' }).click();
    await phone.getByTestId('lift').waitFor();
    expect(await noSidewaysScroll(phone)).toBe(true);
    await snap(phone, 'winback-results-phone');
    await phone.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { DEMO_GIFT_RECIPIENT } from '@/lib/demo/gifts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '@/lib/demo/seed';
import { launchBrowser, snap } from '@/tests/browser/browser';

const baseUrl = inject('baseUrl');
const claimPath = inject('giftClaimPath');
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
const phone = () => browser.newContext({ baseURL: baseUrl, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

beforeAll(async () => {
  browser = await launchBrowser();
  page = await (await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page);
});
afterAll(async () => {
  await browser?.close();
});

describe('a gift recipient on the public claim page (phone)', () => {
  it('opens the demo gift, is refused with another email, claims it with theirs and sees the claimed state and the code', async () => {
    expect(claimPath).toMatch(/^\/gift\/claim\/GIFT-/);
    const p = await (await phone()).newPage();
    await p.goto(claimPath);
    await p.getByRole('heading', { level: 1, name: 'You’ve received a gift' }).waitFor();
    await p.getByText('from Ivy Hart').waitFor();
    await p.getByText('Happy birthday, Sam! Pick something lovely.').waitFor();
    await p.getByText('$25.00').waitFor();
    expect(await p.content()).not.toContain('@demo-giftee.test');
    expect(await noSidewaysScroll(p)).toBe(true);
    await snap(p, 'gift-claim-phone');

    // Keyboard only: the field, a wrong address, Enter.
    await p.getByLabel('Your email').focus();
    await p.keyboard.type('someone.else@example.test');
    await p.keyboard.press('Enter');
    await p.getByRole('alert').filter({ hasText: 'Use the email address this gift was sent to.' }).waitFor();
    await expect.poll(() => p.getByLabel('Your email').getAttribute('aria-invalid')).toBe('true');

    await p.getByLabel('Your email').fill(DEMO_GIFT_RECIPIENT.toUpperCase());
    await p.keyboard.press('Enter');
    const heading = p.getByRole('heading', { level: 1, name: 'Gift claimed!' });
    await heading.waitFor();
    await expect.poll(() => heading.evaluate((h) => h === document.activeElement)).toBe(true);
    const code = (await p.getByText(/^GIFTED-[A-Z0-9]{10}$/).textContent()) ?? '';
    expect(code).toMatch(/^GIFTED-/);
    await p.getByText('$25.00 off').waitFor();
    expect(await noSidewaysScroll(p)).toBe(true);
    await snap(p, 'gift-claimed-phone');

    // Back later: the gift shows as claimed; the claimer gets the same code again.
    await p.reload();
    await p.getByRole('heading', { level: 1, name: 'This gift has already been claimed' }).waitFor();
    await p.getByLabel('Your email').fill(DEMO_GIFT_RECIPIENT);
    await p.getByRole('button', { name: 'Show my code' }).click();
    await p.getByRole('heading', { level: 1, name: 'Your gift' }).waitFor();
    await p.getByText(code).waitFor();
    await p.context().close();
  });

  it('says so, without a form, for a link that is not a gift', async () => {
    const p = await (await phone()).newPage();
    await p.goto('/gift/claim/GIFT-2222-3333-4444-5555');
    await p.getByRole('heading', { level: 1, name: 'We can’t find this gift' }).waitFor();
    expect(await p.getByLabel('Your email').count()).toBe(0);
    expect(await noSidewaysScroll(p)).toBe(true);
    await p.context().close();
  });
});

describe('the merchant\u2019s Gifts page (seeded demo merchant)', () => {
  it('shows the figures with their definitions and the gifts by status, with when a pending gift goes', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gifts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Gifts' }).waitFor();
    const figures = page.getByRole('region', { name: 'Gift figures' });
    await figures.getByText('Claim rate').waitFor();
    await figures.getByText('Value claimed').waitFor();
    const table = page.getByRole('table', { name: /Gifts, newest first/ });
    await table.getByText('Sam Rivera').first().waitFor();
    await page.getByRole('button', { name: /^Claimed/ }).click();
    await expect.poll(() => page.getByRole('button', { name: /^Claimed/ }).getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => table.getByText('Pending', { exact: true }).count()).toBe(0);
    expect(await table.getByText('Claimed', { exact: true }).count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: /^Pending/ }).click();
    await table.getByText(/^Scheduled for /).first().waitFor();
    await snap(page, 'gifts-list');
  });

  it('creates a gift from the form, refusing a bad value in its field, then hands out its link and cancels it', async () => {
    await page.getByRole('button', { name: /^All/ }).click();
    await page.getByRole('button', { name: 'New gift' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New gift' });
    await dialog.getByLabel('Recipient’s email').fill('browser.friend@example.test');
    await dialog.getByLabel('Recipient’s name').fill('Browser Friend');
    await dialog.getByLabel('From').fill('Nora Quinn');
    await dialog.getByLabel('Value (USD)').fill('12.345');
    await dialog.getByRole('button', { name: 'Create gift' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Use at most 2 decimal places' }).waitFor();
    await dialog.getByLabel('Value (USD)').fill('12.50');
    // "On a day" needs the day: left empty, it is asked for rather than read as now.
    await dialog.getByLabel('On a day').check();
    await dialog.getByRole('button', { name: 'Create gift' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Pick a day and time, or choose “Now”' }).waitFor();
    await dialog.getByLabel('Now').check();
    await dialog.getByRole('button', { name: 'Create gift' }).click();
    await page.getByText('Gift created').waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Browser Friend' });
    await row.waitFor();
    await row.getByText('$12.50').waitFor();

    await row.getByRole('button', { name: 'Get a claim link for browser.friend@example.test' }).click();
    const link = page.getByRole('dialog', { name: 'Claim link' });
    await link.getByText(/\/gift\/claim\/GIFT-/).waitFor();
    await page.keyboard.press('Escape');
    await row.getByText('Delivered', { exact: true }).waitFor();

    await row.getByRole('button', { name: 'Cancel the gift to browser.friend@example.test' }).click();
    await page.getByRole('dialog', { name: 'Cancel this gift?' }).getByRole('button', { name: 'Cancel gift' }).click();
    await row.getByText('Cancelled', { exact: true }).waitFor();
  });

  it('fits a phone without sideways scrolling', async () => {
    const p = await (await phone()).newPage();
    await signIn(p);
    await p.goto('/dashboard/gifts');
    await p.getByRole('heading', { level: 1, name: 'Gifts' }).waitFor();
    // One card a gift, with its status and actions in view.
    const list = p.getByRole('list', { name: 'Gifts, newest first' });
    await list.waitFor();
    await list.getByRole('button', { name: /^Get a claim link for / }).first().waitFor();
    expect(await p.getByRole('table', { name: /Gifts, newest first/ }).isVisible()).toBe(false);
    expect(await noSidewaysScroll(p)).toBe(true);
    await snap(p, 'gifts-phone');
    await p.context().close();
  });
});

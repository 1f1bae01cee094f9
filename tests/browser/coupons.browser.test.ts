import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, snap } from '@/tests/browser/browser';
import { DEMO_EMAIL, DEMO_PASSWORD } from '@/lib/demo/seed';

const baseUrl = inject('baseUrl');
let browser: Browser;
let context: BrowserContext;
let page: Page;

// The demo merchant already has WELCOME10, VIP20 and FREESHIP; these codes are new.
const CODE = 'SPRING10';
const BUNDLE = 'BUNDLE21';

const row = (code: string) => page.locator(`[data-testid="coupon-row"][data-code="${code}"]`);
const dialog = () => page.getByRole('dialog');
// A role query uses the accessible name, which leaves out the aria-hidden "required" asterisk.
const codeInput = () => dialog().getByRole('textbox', { name: 'Code', exact: true });

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: 1366, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
});

async function openCreate() {
  await page.getByRole('button', { name: 'Create coupon' }).first().click();
  await dialog().getByRole('heading', { name: 'Create coupon' }).waitFor();
}

describe('coupons in a real browser (seeded demo merchant)', () => {
  it('signs in and opens Coupons from the navigation, with stats and the list', async () => {
    await page.goto('/login');
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(/\/dashboard$/);

    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Coupons' }).click();
    await page.waitForURL(/\/dashboard\/campaigns\/coupons$/);
    await expect(nav.getByRole('link', { name: 'Coupons' }).getAttribute('aria-current')).resolves.toBe('page');
    await page.getByRole('heading', { name: 'Coupons', level: 1 }).waitFor();
    await page.getByRole('region', { name: 'Coupon stats' }).getByText('Total coupons').waitFor();
    await row('WELCOME10').waitFor();
    await expect(row('WELCOME10').getByTestId('coupon-discount').textContent()).resolves.toBe('10% off');
    await expect(row('FREESHIP').getByTestId('coupon-discount').textContent()).resolves.toBe('Free shipping');
    await snap(page, 'coupons-list');
  });

  it('creates a percentage coupon and shows it in the list', async () => {
    await openCreate();
    await codeInput().fill(CODE.toLowerCase());
    await expect(codeInput().inputValue()).resolves.toBe(CODE);
    await dialog().getByLabel('Percentage off').fill('10');
    await snap(page, 'coupons-form');
    await dialog().getByRole('button', { name: 'Create coupon' }).click();
    await page.getByText('Coupon created').waitFor();
    await dialog().waitFor({ state: 'detached' });
    await expect(row(CODE).getByTestId('coupon-discount').textContent()).resolves.toBe('10% off');
    await expect(row(CODE).getByTestId('coupon-status').textContent()).resolves.toBe('Active');
    await expect(row(CODE).getByText('0 / ∞').isVisible()).resolves.toBe(true);
  });

  it('shows the server’s 409 message under the code for a duplicate code', async () => {
    await openCreate();
    await codeInput().fill('WELCOME10');
    await dialog().getByLabel('Percentage off').fill('5');
    await dialog().getByRole('button', { name: 'Create coupon' }).click();
    const error = dialog().locator('#coupon-code-error');
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/already exists/i);
    await expect(codeInput().getAttribute('aria-invalid')).resolves.toBe('true');
    await snap(page, 'coupons-duplicate');
    await dialog().getByRole('button', { name: 'Cancel' }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  it('edits the coupon: the code is locked and the new value shows in the list', async () => {
    await page.getByRole('button', { name: `Edit ${CODE}` }).click();
    await dialog().getByRole('heading', { name: `Edit ${CODE}` }).waitFor();
    await expect(codeInput().isDisabled()).resolves.toBe(true);
    await expect(dialog().getByLabel('Percentage off').inputValue()).resolves.toBe('10');
    await dialog().getByLabel('Percentage off').fill('15');
    await dialog().getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Coupon saved').waitFor();
    await dialog().waitFor({ state: 'detached' });
    await expect.poll(() => row(CODE).getByTestId('coupon-discount').textContent(), { timeout: 10_000 }).toBe('15% off');
  });

  it('pauses and resumes the coupon', async () => {
    await page.getByRole('button', { name: `Pause ${CODE}` }).click();
    await expect.poll(() => row(CODE).getByTestId('coupon-status').textContent(), { timeout: 10_000 }).toBe('Paused');
    await page.getByRole('button', { name: `Resume ${CODE}` }).click();
    await expect.poll(() => row(CODE).getByTestId('coupon-status').textContent(), { timeout: 10_000 }).toBe('Active');
    await page.getByRole('button', { name: `Pause ${CODE}` }).waitFor();
  });

  it('copies the code with visible and announced feedback', async () => {
    await page.getByRole('button', { name: `Copy code ${CODE}` }).click();
    await expect.poll(() => row(CODE).getByRole('status').textContent()).toBe('Copied');
    await expect(row(CODE).getByRole('button', { name: `Copy code ${CODE}` }).textContent()).resolves.toContain('Copied');
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(CODE);
  });

  it('creates a buy X get Y coupon: quantities only for that type', async () => {
    await openCreate();
    await expect(dialog().getByLabel('Customer buys').count()).resolves.toBe(0);
    await dialog().getByRole('radio', { name: 'Buy X get Y' }).check();
    await expect(dialog().getByLabel('Percentage off').count()).resolves.toBe(0);
    await codeInput().fill(BUNDLE);
    await dialog().getByRole('button', { name: 'Create coupon' }).click();
    // Missing quantities are caught before anything is sent.
    await expect(dialog().locator('#coupon-buy-quantity-error').textContent()).resolves.toMatch(/how many to buy/);
    await dialog().getByLabel('Customer buys').fill('2');
    await dialog().getByLabel('Customer gets free').fill('1');
    await snap(page, 'coupons-form-bxgy');
    await dialog().getByRole('button', { name: 'Create coupon' }).click();
    await page.getByText('Coupon created').first().waitFor();
    await dialog().waitFor({ state: 'detached' });
    await expect(row(BUNDLE).getByTestId('coupon-discount').textContent()).resolves.toBe('Buy 2 get 1');
  });

  it('filters by status', async () => {
    await page.getByRole('group', { name: 'Status' }).getByRole('button', { name: 'Paused' }).click();
    await page.getByText('No coupons match these filters').waitFor();
    await page.getByRole('group', { name: 'Status' }).getByRole('button', { name: 'Active' }).click();
    await row(CODE).waitFor();
    const statuses = await page.getByTestId('coupon-status').allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 'Active')).toBe(true);
    await page.getByRole('group', { name: 'Status' }).getByRole('button', { name: 'All' }).click();
  });

  it('deletes the coupon after confirming in a modal naming the code', async () => {
    await page.getByRole('button', { name: `Delete ${CODE}` }).click();
    await dialog().getByRole('heading', { name: `Delete ${CODE}?` }).waitFor();
    await snap(page, 'coupons-delete');
    await dialog().getByRole('button', { name: 'Delete coupon' }).click();
    await page.getByText(`${CODE} deleted`).waitFor();
    await expect.poll(() => row(CODE).count(), { timeout: 10_000 }).toBe(0);
  });

  it('shows a coupon’s uses with a CSV export', async () => {
    await page.getByRole('button', { name: 'View uses of VIP20' }).click();
    await dialog().getByRole('heading', { name: 'Uses of VIP20' }).waitFor();
    await dialog().getByRole('link', { name: 'Export CSV' }).waitFor();
    await expect(dialog().getByRole('link', { name: 'Export CSV' }).getAttribute('href')).resolves.toMatch(/\/uses\?format=csv$/);
    await dialog().locator('[data-testid="coupon-use"], :text("Not used yet")').first().waitFor();
    await snap(page, 'coupons-uses');
    await dialog().getByRole('button', { name: 'Close dialog' }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  it('generates a batch of codes and offers them as a CSV', async () => {
    await page.getByRole('button', { name: 'Generate codes' }).click();
    await dialog().getByLabel('Prefix').fill('PINS');
    await dialog().getByLabel('How many').fill('5');
    await dialog().getByRole('radio', { name: 'Fixed amount' }).check();
    await dialog().getByLabel('Amount off').fill('5');
    await snap(page, 'coupons-bulk-form');
    await dialog().getByRole('button', { name: 'Generate codes' }).click();
    const link = dialog().getByRole('link', { name: 'Download CSV' });
    await link.waitFor();
    await dialog().getByText('5 single-use codes').waitFor();
    const href = await link.getAttribute('href');
    expect(href).toBeTruthy();
    const csv = await page.request.get(href ?? '');
    expect(csv.status()).toBe(200);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines.slice(1).filter((l) => l.startsWith('PINS-'))).toHaveLength(5);
    await snap(page, 'coupons-bulk-done');
    await dialog().getByRole('button', { name: 'Done' }).click();
    await dialog().waitFor({ state: 'detached' });

    // The batch is one row with its counts, not five rows in the coupon list; its codes are inside it.
    const row = page.getByTestId('batch-row').filter({ hasText: 'PINS-' });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('0 of 5');
    await expect(page.getByRole('table', { name: /^Coupons/ }).getByText(/^PINS-/).count()).resolves.toBe(0);
    await row.getByRole('button', { name: 'View the codes of PINS' }).click();
    await expect.poll(() => dialog().getByTestId('batch-code').count()).toBe(5);
    await snap(page, 'coupons-batch-codes');
    const again = await dialog().getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const download = await page.request.get(again ?? '');
    expect(download.headers()['content-disposition']).toMatch(/filename="pins-codes-\d{4}-\d{2}-\d{2}\.csv"/);
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached' });
  });

  it('tests a code as a checkout would', async () => {
    const form = page.getByRole('form', { name: 'Test a code' });
    await form.getByLabel('Code', { exact: true }).fill('WELCOME10');
    await form.getByLabel('Customer email').fill(`new-${Date.now()}@shop.test`);
    await form.getByLabel('Cart total').fill('80');
    await form.getByRole('button', { name: 'Check code' }).click();
    await expect.poll(() => page.getByTestId('test-code-result').textContent(), { timeout: 10_000 }).toContain('WELCOME10 is valid');
    await expect(page.getByTestId('test-code-result').textContent()).resolves.toContain('$8.00 off');

    await form.getByLabel('Code', { exact: true }).fill('NOSUCHCODE');
    await form.getByRole('button', { name: 'Check code' }).click();
    await expect.poll(() => page.getByTestId('test-code-result').textContent(), { timeout: 10_000 }).toContain('would be refused');
    await snap(page, 'coupons-test-code');
  });

  it('shows an error state with retry when the list fails', async () => {
    const other = await context.newPage();
    await other.route('**/api/coupons?**', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'Something went wrong. Please try again.', code: 'internal' }) }));
    await other.goto('/dashboard/campaigns/coupons');
    await other.getByText('Could not load coupons').waitFor();
    await other.getByRole('button', { name: 'Retry' }).first().waitFor();
    await snap(other, 'coupons-error');
    await other.close();
  });

  it('shows the empty state with a create button, and fits a phone screen', async () => {
    const other = await context.newPage();
    await other.setViewportSize({ width: 390, height: 844 });
    await other.route('**/api/coupons?**', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json',
        body: JSON.stringify({ coupons: [], total: 0, stats: { total: 0, active: 0, totalUses: 0, totalDiscount: 0, rejectedUses: 0 } }) }));
    await other.goto('/dashboard/campaigns/coupons');
    await other.getByText('No coupons yet').waitFor();
    await other.getByRole('button', { name: 'Create coupon' }).nth(1).click();
    await other.getByRole('dialog').getByRole('heading', { name: 'Create coupon' }).waitFor();
    await other.keyboard.press('Escape');
    await other.getByRole('dialog').waitFor({ state: 'detached' });
    const overflow = await other.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await snap(other, 'coupons-empty-mobile');
    await other.close();
  });
});

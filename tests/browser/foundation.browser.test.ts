import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, snap } from '@/tests/browser/browser';

const baseUrl = inject('baseUrl');
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  // A desktop Chrome's user agent: headless Chromium names itself HeadlessChrome, which the
  // Shopify library takes for a bot and refuses to start an install for (as it should).
  context = await browser.newContext({
    baseURL: baseUrl, permissions: ['clipboard-read', 'clipboard-write'],
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  });
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
});

const email = `owner-${Date.now()}@shop.test`;
const KLAVIYO = 'pk_test_1234567890abcdefWXYZ';

describe('foundation in a real browser', () => {
  it('redirects a signed-out visitor from /dashboard to login, keeping next', async () => {
    await page.goto('/dashboard/settings');
    await page.waitForURL(/\/login\?next=%2Fdashboard%2Fsettings/);
    await expect(page.getByRole('heading', { name: 'Sign in to Haven Hub' }).isVisible()).resolves.toBe(true);
    // Without its script the form must still post: a password never goes into a URL.
    const form = page.locator('form[action="/api/auth/login"]');
    await expect(form.getAttribute('method')).resolves.toBe('post');
  });

  it('shows the server message for a bad sign-up, then signs up with the keyboard and lands on the dashboard', async () => {
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL(/\/signup/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByLabel('Password').press('Enter');
    await expect(page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).first().textContent()).resolves.toContain('8 characters');

    await page.getByLabel('Password').fill('a good long password');
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(/\/dashboard\/settings$/);
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    // A new store has had no privacy requests from its shop yet.
    await page.getByText('No requests yet', { exact: true }).waitFor();
    await snap(page, 'settings-empty');
  });

  it('saves settings: a bad domain shows an inline error, a good one a toast, secrets show only last 4', async () => {
    await page.getByRole('textbox', { name: 'Shop domain' }).fill('not a shop');
    await page.getByRole('button', { name: 'Save domain' }).click();
    await expect(page.locator('#shop-domain-error').textContent()).resolves.toMatch(/myshopify\.com/);

    await page.getByRole('textbox', { name: 'Shop domain' }).fill('browser-test.myshopify.com');
    await page.getByRole('button', { name: 'Save domain' }).click();
    await page.getByText('Shop domain saved').waitFor();

    await page.getByRole('textbox', { name: 'Klaviyo private API key' }).fill(KLAVIYO);
    await page.getByRole('form', { name: 'Klaviyo private API key settings' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('Klaviyo key saved').waitFor();
    await page.getByText('WXYZ').first().waitFor();
    expect(await page.content()).not.toContain(KLAVIYO);
    await expect(page.getByRole('textbox', { name: 'Replace Klaviyo private API key' }).inputValue()).resolves.toBe('');
    await snap(page, 'settings-saved');
  });

  it('shows storefront code that runs as pasted on a page of another origin and records the shopper', async () => {
    const snippet = await page.getByTestId('tracking-snippet').textContent();
    expect(snippet).toContain('window.havenTrack');
    const storefront = await context.newPage();
    try {
      // A page that is not ours (about:blank), with the code pasted into it as it is shown.
      await storefront.setContent(`<!doctype html><html><body><h1>Shop</h1>${snippet ?? ''}</body></html>`);
      const email = `snippet-${Date.now()}@example.test`;
      const status = await storefront.evaluate(async (who) => {
        const track = (window as unknown as { havenTrack: (e: string, t: string) => Promise<Response> }).havenTrack;
        return (await track(who, 'lead_capture')).status;
      }, email);
      expect(status).toBe(202);
      await page.goto(`/dashboard/customers?search=${encodeURIComponent(email)}`);
      await page.getByRole('cell', { name: email }).waitFor();
    } finally {
      await storefront.close();
    }
    await page.goto('/dashboard/settings');
  });

  it('sets the store time zone from the keyboard, and says what it changes', async () => {
    const zone = page.getByLabel('Time zone', { exact: true });
    await expect(zone.inputValue()).resolves.toBe('UTC');
    await zone.focus();
    await zone.selectOption('Europe/Paris');
    const save = page.getByRole('form', { name: 'Store time zone' }).getByRole('button', { name: 'Save' });
    await save.press('Enter');
    await page.getByText('Trends and cohorts are now counted in Europe/Paris.').waitFor();
    // Saved, the button says there is nothing to save, and keeps the focus (it is not disabled away from under it).
    await expect.poll(() => save.getAttribute('aria-disabled')).toBe('true');
    expect(await save.evaluate((b) => b === document.activeElement)).toBe(true);
  });

  it('shows the overview with setup progress, trends in the store time zone and no cohorts yet', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.waitForURL(/\/dashboard$/);
    await page.getByText('Get set up').waitFor();
    await page.getByText('1 of 2 steps left.').waitFor();
    await page.getByText(/Days of your store’s time zone \(Europe\/Paris\)/).waitFor();
    await page.getByText('No first orders in these months').waitFor();
    await snap(page, 'overview');
  });

  it('connects the store through Shopify from Settings, lists the webhooks the app registered, fits a phone, and disconnects', async () => {
    await page.goto('/dashboard/settings');
    const domain = page.getByRole('textbox', { name: 'Store domain' });
    // Filled in with the shop saved by hand above.
    await expect(domain.inputValue()).resolves.toBe('browser-test.myshopify.com');
    await domain.fill('example.com');
    await page.getByRole('button', { name: 'Connect Shopify' }).click();
    await expect(page.locator('#install-shop-error').textContent()).resolves.toMatch(/myshopify\.com/);

    // To the store's authorize page (the stand-in approves at once) and back to Settings.
    await domain.fill('browser-test.myshopify.com');
    await domain.press('Enter');
    await page.waitForURL(/\/dashboard\/settings\?shopify=connected/);
    await page.getByTestId('shopify-outcome').getByText('Your store is connected').waitFor();
    const install = page.getByTestId('shopify-install');
    await install.getByText('browser-test.myshopify.com').waitFor();
    await expect.poll(() => install.getByText(/^Registered /).count()).toBe(5);
    // The manual connection steps aside, one click away.
    await page.getByTestId('manual-not-needed').waitFor();
    await expect(page.getByRole('textbox', { name: 'Shop domain' }).isVisible()).resolves.toBe(false);
    await snap(page, 'settings-shopify-connected');

    await page.setViewportSize({ width: 375, height: 800 });
    await install.getByText('Webhooks the app registered').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await snap(page, 'settings-shopify-phone');
    await page.setViewportSize({ width: 1280, height: 720 });

    await install.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disconnect' }).click();
    await page.getByText('Store disconnected').waitFor();
    await install.getByText(/^Disconnected /).waitFor();
    await install.getByRole('button', { name: 'Install again' }).waitFor();
    await expect(page.getByRole('textbox', { name: 'Shop domain' }).isVisible()).resolves.toBe(true);
  });

  it('shows an error state with retry when the API fails', async () => {
    const other = await context.newPage();
    await other.route('**/api/settings/integrations', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'Something went wrong. Please try again.', code: 'internal' }) }));
    await other.goto('/dashboard/settings');
    await other.getByRole('button', { name: 'Retry' }).waitFor();
    await expect(other.getByRole('alert').first().textContent()).resolves.toContain('Something went wrong');
    await snap(other, 'settings-error');
    await other.close();
  });

  it('says so, with retry, when the privacy requests cannot be loaded', async () => {
    const other = await context.newPage();
    await other.route('**/api/privacy/requests', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'Something went wrong. Please try again.', code: 'internal' }) }));
    await other.goto('/dashboard/settings');
    await other.getByText('Could not load privacy requests').waitFor();
    await expect(other.getByRole('button', { name: 'Retry' }).count()).resolves.toBeGreaterThan(0);
    await other.close();
  });

  it('logs out and is sent back to login from /dashboard', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto('/dashboard');
    await page.waitForURL(/\/login\?next=%2Fdashboard/);
    const res = await page.request.get('/api/auth/session');
    expect(res.status()).toBe(401);
  });
});

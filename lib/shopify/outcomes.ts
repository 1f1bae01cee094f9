/**
 * How an install from Shopify ended, as Settings says it (`/dashboard/settings?shopify=<outcome>`):
 * connected, or why nothing was bound. Shared by the routes and the Settings card.
 */
export const INSTALL_MESSAGES = {
  connected: 'Your store is connected. New orders, refunds and cancellations now arrive by themselves.',
  shop_taken:
    'This store is connected to another Haven Hub account. To free it, uninstall the app from the store’s Shopify admin, ' +
    'or disconnect the store in that account’s Settings; then connect it here.',
  account_has_shop: 'This account holds another store’s data, and one account holds one store. Connect this store from a new account.',
  invalid: 'That install link was not valid or has been used. Start again with “Connect Shopify”.',
  scopes: 'Shopify did not grant every permission the app needs (reading orders and customers). Connect again and approve them all.',
  failed: 'Shopify did not complete the install. Try again in a minute.',
  not_configured: 'Installing from Shopify is not set up on this server (SHOPIFY_API_KEY and SHOPIFY_API_SECRET).',
} as const;

export type InstallOutcome = keyof typeof INSTALL_MESSAGES;

export const isInstallOutcome = (v: string | null | undefined): v is InstallOutcome =>
  typeof v === 'string' && Object.hasOwn(INSTALL_MESSAGES, v);

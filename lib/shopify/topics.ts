/**
 * The topics the app registers in a shop, as the Admin API names them. The compliance topics
 * (customers/data_request, customers/redact, shop/redact) are not among them: Shopify sets
 * those in the app's configuration, not through the API.
 */
export const APP_TOPICS = ['ORDERS_CREATE', 'ORDERS_PAID', 'ORDERS_CANCELLED', 'REFUNDS_CREATE', 'APP_UNINSTALLED'] as const;
export type AppTopic = (typeof APP_TOPICS)[number];

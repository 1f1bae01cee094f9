import { withMerchant } from '@/lib/api/handler';
import { customerListQuery } from '@/lib/customers/schemas';
import { customersCsvResponse, listCustomers } from '@/lib/customers/service';

// GET /api/customers?stage&collection&search&sort&order&limit&offset -> a page;
// &format=csv -> the whole filtered list as CSV, streamed in the list's order.
export const GET = withMerchant({ query: customerListQuery }, async ({ tx, merchant, query }) => {
  if (query.format === 'csv') return customersCsvResponse(merchant.userId, query, `customers-${new Date().toISOString().slice(0, 10)}.csv`);
  return listCustomers(tx, merchant.userId, query);
});

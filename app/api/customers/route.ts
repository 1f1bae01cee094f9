import { withMerchant } from '@/lib/api/handler';
import { csvResponse } from '@/lib/csv';
import { customerListQuery } from '@/lib/customers/schemas';
import { customersCsv, listCustomers } from '@/lib/customers/service';

// GET /api/customers?stage&collection&search&sort&order&limit&offset -> a page;
// &format=csv -> the whole filtered list as CSV (X-Row-Limit-Reached: true when it was cut at 100,000).
export const GET = withMerchant({ query: customerListQuery }, async ({ tx, merchant, query }) => {
  if (query.format === 'csv') {
    const { csv, truncated } = await customersCsv(tx, merchant.userId, query);
    const res = csvResponse(csv, `customers-${new Date().toISOString().slice(0, 10)}.csv`);
    if (truncated) res.headers.set('x-row-limit-reached', 'true');
    return res;
  }
  return listCustomers(tx, merchant.userId, query);
});

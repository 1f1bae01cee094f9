import { withMerchant } from '@/lib/api/handler';
import { customerListQuery } from '@/lib/customers/schemas';
import { listCustomers } from '@/lib/customers/service';

// GET /api/customers?stage&collection&search&sort&order&limit&offset
export const GET = withMerchant({ query: customerListQuery }, ({ tx, merchant, query }) => listCustomers(tx, merchant.userId, query));

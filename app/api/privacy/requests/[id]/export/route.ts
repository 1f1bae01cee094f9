import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { requestExport } from '@/lib/privacy/requests';
import { requestExportQuery } from '@/lib/privacy/schemas';

const params = z.object({ id: z.uuid('Not a request id') });

// GET /api/privacy/requests/:id/export?format=json|csv&table= -> what a data request asks for, as a file.
export const GET = withMerchant({ params, query: requestExportQuery }, ({ tx, merchant, params: { id }, query }) =>
  requestExport(tx, merchant.userId, id, query));

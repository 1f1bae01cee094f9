import { withMerchant } from '@/lib/api/handler';
import { previewRequest } from '@/lib/winback/schemas';
import { previewDraft } from '@/lib/winback/service';

// POST {campaignId?, fields} -> the audience of the form's fields as typed (the live preview).
// A read, though a POST: the fields are a body. Same-origin checked like every mutation.
export const POST = withMerchant({ body: previewRequest }, ({ tx, merchant, body }) => previewDraft(tx, merchant.userId, body));

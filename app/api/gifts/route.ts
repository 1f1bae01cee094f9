import { json, withMerchant } from '@/lib/api/handler';
import { giftCreateSchema, giftListQuery } from '@/lib/gifts/schemas';
import { createGift, listGifts } from '@/lib/gifts/service';

// GET /api/gifts?status=&after=&limit= -> {gifts, next}, newest first, each with its latest announcement.
export const GET = withMerchant({ query: giftListQuery }, ({ tx, merchant, query }) => listGifts(tx, merchant.userId, query));

// POST /api/gifts {recipientEmail, recipientName?, senderName, senderEmail?, message?, value?,
// scheduledDeliveryAt?, expiresInDays?} -> 201 the gift, its announcement due now or on its day.
export const POST = withMerchant({ body: giftCreateSchema }, async ({ tx, merchant, body }) => json(await createGift(tx, merchant.userId, body), 201));

import { z } from 'zod';
import { emailSchema } from '@/lib/auth/schemas';
import { decimal, text, wholeNumber } from '@/lib/fields';

/**
 * Gifts: one shape for each entity, shared by the API, the service, the pages and the forms.
 */
export const GIFT_STATUSES = ['pending', 'delivered', 'claimed', 'expired', 'cancelled'] as const;
export type GiftStatus = (typeof GIFT_STATUSES)[number];
export const GIFT_ORIGINS = ['dashboard', 'order'] as const;
export const DELIVERY_CHANNELS = ['klaviyo', 'link'] as const;
export const MESSAGE_STATUSES = ['pending', 'held', 'sent', 'failed', 'cancelled'] as const;

const iso = z.iso.datetime({ offset: true });

/** The latest "Gift Received" announcement of a gift: where it is, and why when it is stuck. */
export const announcementSchema = z.object({
  status: z.enum(MESSAGE_STATUSES),
  hold: z.string().nullable(),
  reason: z.string().nullable(),
  attempts: z.number().int(),
  dueAt: iso,
  sentAt: iso.nullable(),
});

export const giftSchema = z.object({
  id: z.uuid(),
  origin: z.enum(GIFT_ORIGINS),
  shopOrderId: z.string().nullable(),
  senderName: z.string().nullable(),
  senderEmail: z.string().nullable(),
  recipientEmail: z.string(),
  recipientName: z.string().nullable(),
  message: z.string().nullable(),
  value: z.number().nullable(),
  currency: z.string(),
  status: z.enum(GIFT_STATUSES),
  scheduledDeliveryAt: iso.nullable(),
  deliveredAt: iso.nullable(),
  deliveredVia: z.enum(DELIVERY_CHANNELS).nullable(),
  claimedAt: iso.nullable(),
  expiresAt: iso,
  cancelledAt: iso.nullable(),
  createdAt: iso,
});
export const giftWithDeliverySchema = giftSchema.extend({
  /** The coupon the claim issued (its code), for a claimed gift with a value. */
  couponCode: z.string().nullable(),
  announcement: announcementSchema.nullable(),
});
export type Gift = z.infer<typeof giftWithDeliverySchema>;

export const giftListQuery = z
  .object({
    status: z.enum(GIFT_STATUSES).optional(),
    /** The last id of the previous page. */
    after: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
  })
  .strict();
export type GiftListQuery = z.infer<typeof giftListQuery>;

export const giftPageSchema = z.object({
  gifts: z.array(giftWithDeliverySchema),
  /** Pass as `after` for the next page; null on the last. */
  next: z.uuid().nullable(),
});
export type GiftPage = z.infer<typeof giftPageSchema>;

/** The Gifts page's figures, each with its definition next to it on the page. */
export const giftStatsSchema = z.object({
  total: z.number().int(),
  byStatus: z.object(Object.fromEntries(GIFT_STATUSES.map((s) => [s, z.number().int()])) as Record<GiftStatus, z.ZodNumber>),
  /** Gifts the recipient was told of (delivered at some point). */
  announced: z.number().int(),
  /** Claimed ÷ announced; null before any was announced. */
  claimRate: z.number().nullable(),
  /** Sum of the values of claimed gifts (each became a coupon for that amount). */
  valueClaimed: z.number(),
  /** Sum of the values of gifts still waiting to be claimed. */
  valueOutstanding: z.number(),
  /** Announcements held for want of a (working) Klaviyo key. */
  held: z.number().int(),
  currency: z.string(),
});
export type GiftStats = z.infer<typeof giftStatsSchema>;

/** POST /api/gifts: named fields only (S11); the server sets the code, status, dates and tenant. */
export const giftCreateSchema = z
  .object({
    recipientEmail: emailSchema,
    recipientName: text({ max: 120 }).transform((v) => v || null).nullable().optional(),
    senderName: text({ max: 120, required: 'Say who the gift is from' }),
    senderEmail: z.union([emailSchema, z.literal('').transform(() => null)]).nullable().optional(),
    message: text({ max: 1000 }).transform((v) => v || null).nullable().optional(),
    value: decimal(0, 100_000, { above: true, cents: true }).nullable().optional(),
    /** When the recipient is told; left out or null: at once. */
    scheduledDeliveryAt: iso.nullable().optional(),
    /** Days the recipient has to claim it, from its delivery. */
    expiresInDays: wholeNumber(1, 365).default(90),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (!v.scheduledDeliveryAt) return;
    const at = Date.parse(v.scheduledDeliveryAt);
    if (at <= Date.now()) ctx.addIssue({ code: 'custom', path: ['scheduledDeliveryAt'], message: 'Pick a time in the future, or leave it empty to send now' });
    if (at > Date.now() + 366 * 86_400_000) ctx.addIssue({ code: 'custom', path: ['scheduledDeliveryAt'], message: 'Pick a day within a year' });
  });
export type GiftCreate = z.infer<typeof giftCreateSchema>;

export const giftParams = z.object({ id: z.uuid({ error: 'Gift not found' }) });

export const resendResultSchema = z.object({
  action: z.enum(['sent', 'brought_forward', 'retried']),
  gift: giftWithDeliverySchema,
});
export const linkResultSchema = z.object({ code: z.string(), url: z.string(), gift: giftWithDeliverySchema });

// ---- The public claim page ----------------------------------------------------------------

/** A code as the link carries it (its form is checked by the lookup, which answers alike for any miss). */
export const claimParams = z.object({ code: z.string() });
export const claimBody = z.object({ email: emailSchema }).strict();

export const PUBLIC_STATUSES = ['on_its_way', 'ready', 'claimed', 'expired', 'cancelled'] as const;
/** What the recipient sees: never an email, nothing but the status of a gift that is over. */
export const publicGiftSchema = z.object({
  storeName: z.string().nullable(),
  /** The shop's storefront, where the coupon is spent. */
  storeUrl: z.string().nullable(),
  status: z.enum(PUBLIC_STATUSES),
  expiresAt: iso,
  from: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  value: z.number().nullable().optional(),
  currency: z.string().optional(),
});
export type PublicGift = z.infer<typeof publicGiftSchema>;
export const publicGiftResponse = z.object({ gift: publicGiftSchema });

export const claimedCouponSchema = z.object({ code: z.string(), amount: z.number(), currency: z.string(), expiresAt: iso.nullable() });
export const claimResultSchema = z.object({
  gift: publicGiftSchema,
  /** The coupon the gift's value became; null for a gift without one. */
  coupon: claimedCouponSchema.nullable(),
  /** True when this email had claimed it already (the same coupon again). */
  again: z.boolean(),
});
export type ClaimResult = z.infer<typeof claimResultSchema>;

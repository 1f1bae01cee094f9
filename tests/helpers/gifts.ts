import { db, withTenant } from '@/lib/db';
import type { GiftCreate } from '@/lib/gifts/schemas';
import { createGift, giftLink } from '@/lib/gifts/service';

/** A gift made as the merchant's dashboard makes it (the real service and SQL). */
export async function makeGift(userId: string, input: Partial<GiftCreate> & { recipientEmail: string }): Promise<string> {
  const gift = await withTenant(userId, (tx) => createGift(tx, userId, { senderName: 'Ada Lovelace', expiresInDays: 90, ...input }));
  return gift.id;
}

/** A claim link for the gift, taken by the merchant (the gift counts as delivered); its code. */
export async function linkFor(userId: string, giftId: string): Promise<string> {
  const { code } = await withTenant(userId, (tx) => giftLink(tx, userId, giftId, (p) => `http://localhost:3000${p}`));
  return code;
}

export interface GiftRow {
  id: string;
  status: string;
  deliveredAt: string | null;
  deliveredVia: string | null;
  claimedAt: string | null;
  claimedByCustomerId: string | null;
  couponId: string | null;
  cancelledAt: string | null;
  scheduledDeliveryAt: string | null;
  expiresAt: string;
  shopOrderId: string | null;
  senderName: string | null;
  senderEmail: string | null;
  recipientEmail: string;
  recipientName: string | null;
  message: string | null;
}

export const gifts = (userId: string) =>
  db()<GiftRow[]>`
    select id, status, delivered_at, delivered_via, claimed_at, claimed_by_customer_id, coupon_id, cancelled_at, scheduled_delivery_at,
           expires_at, shop_order_id, sender_name, sender_email, recipient_email, recipient_name, message
      from public.gifts where user_id = ${userId} order by created_at, id`;

export const giftMessages = (userId: string) =>
  db()<{ id: string; sourceId: string; status: string; hold: string | null; reason: string | null; dueAt: string; properties: Record<string, unknown>; profile: Record<string, unknown> | null }[]>`
    select id, source_id, status, hold, reason, due_at, properties, profile
      from public.klaviyo_messages where user_id = ${userId} and source = 'gift' order by created_at, id`;

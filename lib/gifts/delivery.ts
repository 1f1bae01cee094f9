import 'server-only';
import { appUrl } from '@/lib/api/urls';
import { db } from '@/lib/db';
import { claimPath, giftCodeHash, mintGiftCode } from '@/lib/gifts/codes';

/**
 * The outbox's decorator for "Gift Received": each attempt makes a new claim code, stores its
 * hash (committed before the request goes, so the link works the moment the email lands) and
 * puts the link in the event. A retried send whose first attempt did reach Klaviyo (which keeps
 * the first, by unique_id) still has a working link: every attempt's code stays valid. The
 * code is never stored in clear, in the message or anywhere else.
 */
export async function giftClaimLink({ userId, messageId, properties }: { userId: string; messageId: string; properties: Record<string, unknown> }): Promise<Record<string, unknown>> {
  const giftId = properties.gift_id;
  if (typeof giftId !== 'string') return properties;
  const code = mintGiftCode();
  await db()`
    insert into private.gift_codes (user_id, code_hash, gift_id, message_id)
    values (${userId}, ${giftCodeHash(code)}, ${giftId}, ${messageId})`;
  return { ...properties, gift_code: code, claim_url: appUrl(claimPath(code)) };
}

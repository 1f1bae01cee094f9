import 'server-only';
import { z } from 'zod';
import type { Tx } from '@/lib/db';

/** A recipient's tracking token, as the email's links and pixel carry it. */
export const trackingParams = z.object({ token: z.string().regex(/^[0-9a-f]{32}$/, 'Not a tracking link') });
/** Where a link goes on the shop: a path of the shop's own site, never another site. */
export const clickQuery = z.object({
  to: z.string().max(500).regex(/^\/(?![/\\])[^\s\\]*$/, 'A path on the shop, like /collections/new').optional(),
});

/** Record an open or a click for the token's recipient; the merchant's shop domain, or null for an unknown token. */
export async function recordTracked(tx: Tx, token: string, type: 'email_open' | 'email_click'): Promise<{ shopDomain: string | null } | null> {
  const [row] = await tx<{ r: { shopDomain: string | null } | null }[]>`select private.winback_track(${token}, ${type}) as r`;
  return row?.r ?? null;
}

// The smallest transparent GIF: what an open pixel answers, whatever happened.
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

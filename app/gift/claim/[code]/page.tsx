import type { Metadata } from 'next';
import { ClaimGift } from '@/components/gifts/claim-gift';

// The link is the gift's secret: never indexed, never sent on as a Referer to the store or anyone.
export const metadata: Metadata = {
  title: 'Your gift',
  robots: { index: false, follow: false },
  referrer: 'no-referrer',
};

/** The public claim page (no session): everything it shows comes from /api/gifts/claim/[code]. */
export default async function ClaimGiftPage({ params }: { params: Promise<{ code: string }> }) {
  const { code } = await params;
  return <ClaimGift code={code} />;
}

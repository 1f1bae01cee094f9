import { notFound, redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { currentMerchant } from '@/lib/auth/server';
import { customerExists } from '@/lib/customers/service';
import { isUuid, withTenant } from '@/lib/db';

/**
 * An id that is not one of the merchant's customers is a 404, status and page. Checked here
 * rather than in the page: the page sits inside this segment's loading boundary, and once that
 * fallback has streamed the status is already 200. (No loading boundary may sit above this
 * segment for the same reason: the list and the overview keep theirs in route groups.)
 */
export default async function CustomerLayout({ params, children }: { params: Promise<{ id: string }>; children: ReactNode }) {
  const { id } = await params;
  const merchant = await currentMerchant();
  if (!merchant) redirect(`/login?next=/dashboard/customers/${encodeURIComponent(id)}`);
  if (!isUuid(id) || !(await withTenant(merchant.userId, (tx) => customerExists(tx, merchant.userId, id)))) notFound();
  return children;
}

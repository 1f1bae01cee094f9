import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { DashboardShell } from '@/components/layout/dashboard-shell';
import { currentMerchant } from '@/lib/auth/server';

// The layout checks the session itself; proxy.ts only makes the redirect friendlier.
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const merchant = await currentMerchant();
  if (!merchant) redirect('/login?next=/dashboard');
  return <DashboardShell email={merchant.email}>{children}</DashboardShell>;
}

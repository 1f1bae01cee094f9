import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { AuthForm } from '@/components/auth/auth-form';
import { safeNextPath } from '@/lib/auth/redirect';
import { currentMerchant } from '@/lib/auth/server';

export const metadata: Metadata = { title: 'Sign in' };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  const target = safeNextPath(Array.isArray(next) ? next[0] : next);
  if (await currentMerchant()) redirect(target);
  return (
    <>
      <h1 className="mb-1 text-xl font-semibold">Sign in to Haven Hub</h1>
      <p className="mb-6 text-sm text-slate-600">Your customers, campaigns and loyalty program.</p>
      <AuthForm mode="login" next={target} />
    </>
  );
}

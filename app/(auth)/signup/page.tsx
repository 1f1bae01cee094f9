import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { AuthForm } from '@/components/auth/auth-form';
import { safeNextPath } from '@/lib/auth/redirect';
import { currentMerchant } from '@/lib/auth/server';

export const metadata: Metadata = { title: 'Create account' };

export default async function SignupPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next } = await searchParams;
  const target = safeNextPath(Array.isArray(next) ? next[0] : next);
  if (await currentMerchant()) redirect(target);
  return (
    <>
      <h1 className="mb-1 text-xl font-semibold">Create your account</h1>
      <p className="mb-6 text-sm text-slate-600">Set up retention for your store in a few minutes.</p>
      <AuthForm mode="signup" next={target} />
    </>
  );
}

'use client';

import { Award } from 'lucide-react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { PageContainer } from '@/components/layout/page-container';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useProgram, useSetupProgram } from '@/hooks/use-loyalty';
import { cn } from '@/lib/cn';
import { errorText } from '@/lib/error-text';
import type { Program } from '@/lib/loyalty/schemas';

const TABS = [
  { href: '/dashboard/loyalty', label: 'Overview' },
  { href: '/dashboard/loyalty/members', label: 'Members' },
  { href: '/dashboard/loyalty/rewards', label: 'Rewards' },
  { href: '/dashboard/loyalty/tiers', label: 'Tiers' },
  { href: '/dashboard/loyalty/referrals', label: 'Referrals' },
  { href: '/dashboard/loyalty/settings', label: 'Program settings' },
];

function LoyaltyTabs() {
  const pathname = usePathname();
  const active = TABS.reduce<string | null>((best, t) => (pathname === t.href || pathname.startsWith(`${t.href}/`)) && (!best || t.href.length > best.length) ? t.href : best, null);
  return (
    <nav aria-label="Loyalty" className="-mx-4 overflow-x-auto px-4 sm:mx-0 sm:px-0">
      <ul className="flex min-w-max gap-1 border-b border-slate-200">
        {TABS.map((t) => (
          <li key={t.href}>
            <Link href={t.href} aria-current={active === t.href ? 'page' : undefined}
              className={cn('inline-block border-b-2 px-3 py-2 text-sm font-medium focus-visible:outline-2 focus-visible:outline-brand-600',
                active === t.href ? 'border-brand-600 text-brand-800' : 'border-transparent text-slate-600 hover:text-slate-900')}>
              {t.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/**
 * Every loyalty page: its title, the loyalty tabs, and the program. Until the program is set
 * up, the page offers to set it up instead (defaults and three tiers, all editable after).
 */
export function LoyaltyShell({ title, description, actions, children }: {
  title: string;
  description: string;
  actions?: ReactNode;
  children: (program: Program) => ReactNode;
}) {
  const { data: program, isPending, error, refetch } = useProgram();
  const setup = useSetupProgram();
  const { toast } = useToast();

  async function start() {
    try {
      await setup.mutateAsync(undefined);
      toast({ title: 'Loyalty program set up', description: 'Bronze, Silver and Gold tiers are ready; add rewards next.', variant: 'success' });
    } catch (err) {
      toast({ title: 'Could not set up the program', description: errorText(err, 'Try again'), variant: 'error' });
    }
  }

  let body: ReactNode;
  if (isPending) body = <LoadingBlock label="Loading the loyalty program" rows={6} className="rounded-lg border border-slate-200 bg-white" />;
  else if (error) body = <ErrorState title="Could not load the loyalty program" message={error.message} onRetry={() => void refetch()} />;
  else if (!program) {
    body = (
      <Card>
        <EmptyState icon={Award} title="Reward your customers for coming back"
          description="Members earn points for orders (one per dollar to start), move up Bronze, Silver and Gold tiers, redeem rewards as single-use codes, and refer friends. You can change every rule afterwards."
          action={<Button onClick={() => void start()} loading={setup.isPending}>Set up the loyalty program</Button>} />
      </Card>
    );
  } else body = children(program);

  return (
    <PageContainer title={title} description={description} actions={program ? actions : undefined}>
      <LoyaltyTabs />
      {program && !program.enabled ? (
        <p role="status" className="rounded-md border border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900">
          The program is switched off: orders earn nothing and rewards cannot be redeemed. Switch it on in <Link className="underline" href="/dashboard/loyalty/settings">Program settings</Link>.
        </p>
      ) : null}
      {body}
    </PageContainer>
  );
}

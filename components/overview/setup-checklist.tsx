'use client';

import { CheckCircle2, Circle } from 'lucide-react';
import Link from 'next/link';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useIntegrations } from '@/hooks/use-settings';

interface Step {
  done: boolean;
  title: string;
  description: string;
}

/** What to set up first, in order, from the merchant's real settings. */
export function SetupChecklist() {
  const { data, isPending, error, refetch } = useIntegrations();
  if (isPending) return <LoadingBlock label="Loading setup status" rows={3} />;
  if (error) return <ErrorState message={error.message} onRetry={() => void refetch()} />;

  const app = data.shopify.app.install;
  const steps: Step[] = [
    {
      // Through the app (installed, not uninstalled), or by hand (domain and webhook secret).
      done: Boolean((app && !app.uninstalledAt) || (data.shopify.shopDomain && data.shopify.webhookSecret.configured)),
      title: 'Connect your shop',
      description: data.shopify.app.available
        ? 'Install the app from Settings, “Connect Shopify”, so orders flow in.'
        : 'Add your myshopify.com domain and webhook secret so orders flow in.',
    },
    {
      done: data.klaviyo.apiKey.configured,
      title: 'Connect Klaviyo',
      description: 'Win-back emails and gift notifications are sent through your Klaviyo account.',
    },
  ];
  const remaining = steps.filter((s) => !s.done).length;

  return (
    <Card>
      <CardHeader
        title="Get set up"
        description={remaining === 0 ? 'Everything is connected.' : `${remaining} of ${steps.length} steps left.`}
        actions={<Link href="/dashboard/settings" className="text-sm font-medium text-brand-700 underline underline-offset-4">Open settings</Link>}
      />
      <CardBody>
        <ol className="space-y-4">
          {steps.map((s) => (
            <li key={s.title} className="flex gap-3">
              {s.done ? (
                <CheckCircle2 className="mt-0.5 h-5 w-5 shrink-0 text-brand-600" aria-label="Done" />
              ) : (
                <Circle className="mt-0.5 h-5 w-5 shrink-0 text-slate-400" aria-label="Not done" />
              )}
              <div>
                <p className="font-medium">{s.title}</p>
                <p className="text-sm text-slate-600">{s.description}</p>
              </div>
            </li>
          ))}
        </ol>
      </CardBody>
    </Card>
  );
}

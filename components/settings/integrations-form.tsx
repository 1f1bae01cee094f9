'use client';

import { RefreshCw } from 'lucide-react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { SecretField } from '@/components/settings/secret-field';
import { ServerKeyCard } from '@/components/settings/server-key';
import { ShopifyAppCard } from '@/components/settings/shopify-app';
import { trackingSnippet } from '@/components/settings/tracking-snippet';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { CopyButton } from '@/components/ui/copy-button';
import { ErrorState } from '@/components/ui/error-state';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useCheckKlaviyo, useIntegrations, useRotateTrackingKey, useUpdateIntegrations } from '@/hooks/use-settings';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { formatDateTime, formatNumber } from '@/lib/format';
import type { IntegrationsUpdate, IntegrationsView } from '@/lib/settings/schemas';

type FieldErrors = Partial<Record<keyof IntegrationsUpdate, string>>;

function CopyRow({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <p className="text-sm font-medium text-slate-700">{label}</p>
      <div className="mt-1 flex items-center gap-2">
        <code className="min-w-0 flex-1 truncate rounded bg-slate-100 px-2 py-1.5 font-mono text-xs">{value}</code>
        <CopyButton text={value} aria-label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

/** Its children behind a disclosure when `when` holds, else shown as they are. */
function Collapsed({ when, summary, children }: { when: boolean; summary: string; children: ReactNode }) {
  if (!when) return <>{children}</>;
  return (
    <details className="space-y-4">
      <summary className="cursor-pointer text-sm font-medium text-brand-700">{summary}</summary>
      <div className="mt-4">{children}</div>
    </details>
  );
}

/** Integration settings: shop connection, Klaviyo key, storefront tracking key. */
export function IntegrationsForm() {
  const { data, isPending, error, refetch } = useIntegrations();
  if (isPending) return <LoadingBlock label="Loading settings" rows={6} />;
  if (error) return <ErrorState message={error.message} onRetry={() => void refetch()} />;
  return <IntegrationsSections data={data} />;
}

function IntegrationsSections({ data }: { data: IntegrationsView }) {
  const update = useUpdateIntegrations();
  const rotate = useRotateTrackingKey();
  const check = useCheckKlaviyo();
  const { toast } = useToast();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [domain, setDomain] = useState(data.shopify.shopDomain ?? '');
  const [confirmRotate, setConfirmRotate] = useState(false);

  async function save(input: IntegrationsUpdate, success: string): Promise<boolean> {
    setErrors({});
    try {
      await update.mutateAsync(input);
      toast({ title: success, variant: 'success' });
      return true;
    } catch (err) {
      const field = err instanceof ApiError ? (err.field as keyof IntegrationsUpdate | undefined) : undefined;
      const message = err instanceof Error ? err.message.replace(/^\w+: /, '') : 'Could not save';
      if (field) setErrors({ [field]: message });
      else toast({ title: 'Could not save', description: message, variant: 'error' });
      return false;
    }
  }

  async function saveDomain(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    await save({ shopifyShopDomain: domain.trim() === '' ? null : domain }, 'Shop domain saved');
  }

  async function doRotate() {
    try {
      await rotate.mutateAsync();
      toast({ title: 'Tracking key rotated', description: 'Update the snippet on your storefront.', variant: 'success' });
    } catch (err) {
      toast({ title: 'Could not rotate the key', description: err instanceof Error ? err.message : undefined, variant: 'error' });
    } finally {
      setConfirmRotate(false);
    }
  }

  const snippet = trackingSnippet(data.tracking.endpoint, data.tracking.publishableKey);
  const viaApp = Boolean(data.shopify.app.install && !data.shopify.app.install.uninstalledAt);

  return (
    <div className="space-y-6">
      <ShopifyAppCard app={data.shopify.app} shopDomain={data.shopify.shopDomain} />

      <Card>
        <CardHeader title="Shop, connected by hand" description="For a store without the app: a custom app in your Shopify admin sends its order webhooks to this address, signed with its secret." />
        <CardBody className="space-y-6">
          {viaApp ? (
            <p className="text-sm text-slate-700" data-testid="manual-not-needed">
              Not needed: your store is connected through the app above, which registered its own webhooks.
            </p>
          ) : null}
          <Collapsed when={viaApp} summary="Show the manual connection">
            <div className="space-y-6">
              <form onSubmit={saveDomain} className="space-y-3" aria-label="Shop domain settings">
                <Field label="Shop domain" htmlFor="shop-domain" hint="For example my-store.myshopify.com" error={errors.shopifyShopDomain}>
                  <Input id="shop-domain" value={domain} onChange={(e) => setDomain(e.target.value)} placeholder="my-store.myshopify.com"
                    invalid={Boolean(errors.shopifyShopDomain)} aria-describedby={fieldDescribedBy('shop-domain', { hint: true, error: Boolean(errors.shopifyShopDomain) })} />
                </Field>
                <Button type="submit" size="sm" loading={update.isPending && update.variables?.shopifyShopDomain !== undefined}>Save domain</Button>
              </form>
              <SecretField id="webhook-secret" label="Webhook signing secret" status={data.shopify.webhookSecret}
                hint="Shown in your shop admin under Notifications → Webhooks." error={errors.shopifyWebhookSecret}
                saving={update.isPending && update.variables?.shopifyWebhookSecret !== undefined}
                onSave={(v) => save({ shopifyWebhookSecret: v }, v === null ? 'Webhook secret removed' : 'Webhook secret saved')} />
              <CopyRow label="Webhook URL" value={data.shopify.webhookUrl} />
            </div>
          </Collapsed>
        </CardBody>
      </Card>

      <Card>
        <CardHeader title="Klaviyo" description="Emails are sent through your own Klaviyo account." />
        <CardBody>
          <SecretField id="klaviyo-key" label="Klaviyo private API key" status={data.klaviyo.apiKey}
            hint="Create one in Klaviyo under Settings → API keys, with Events write access." error={errors.klaviyoApiKey}
            saving={update.isPending && update.variables?.klaviyoApiKey !== undefined}
            onSave={async (v) => {
              const saved = await save({ klaviyoApiKey: v }, v === null ? 'Klaviyo key removed' : 'Klaviyo key saved');
              // A new key is checked at once, so a wrong one shows here rather than in failed sends.
              if (saved && v !== null) check.mutate();
              return saved;
            }} />
          <KlaviyoStatus data={data} checking={check.isPending} onCheck={() => check.mutate(undefined, {
            onError: (err) => toast({ title: 'Could not check the key', description: errorText(err, 'Try again'), variant: 'error' }),
          })} />
        </CardBody>
      </Card>

      <Card>
        <CardHeader title="Storefront tracking" description="A publishable key: safe to put in your storefront's code."
          actions={<Button size="sm" variant="secondary" onClick={() => setConfirmRotate(true)}><RefreshCw className="h-4 w-4" aria-hidden />Rotate key</Button>} />
        <CardBody className="space-y-4">
          <CopyRow label="Publishable key" value={data.tracking.publishableKey} />
          <div>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p className="text-sm font-medium text-slate-700" id="tracking-snippet-label">Storefront code</p>
              <CopyButton text={snippet} label="Copy code" aria-label="Copy storefront code" />
            </div>
            <p className="mt-1 text-xs text-slate-600">Paste it into your theme; then call <code className="font-mono">havenTrack(email, type)</code> where the shopper&apos;s email is known.</p>
            <pre className="mt-2 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100" aria-labelledby="tracking-snippet-label"><code data-testid="tracking-snippet">{snippet}</code></pre>
          </div>
        </CardBody>
      </Card>

      <ServerKeyCard status={data.serverKey} />

      <Modal open={confirmRotate} onClose={() => setConfirmRotate(false)} title="Rotate the tracking key?"
        description="The current key stops working immediately. Events from storefronts still using it will be refused."
        footer={<>
          <Button variant="ghost" onClick={() => setConfirmRotate(false)}>Cancel</Button>
          <Button variant="danger" loading={rotate.isPending} onClick={() => void doRotate()}>Rotate key</Button>
        </>} />
    </div>
  );
}

/** Whether the key works (its last check), and what is waiting on Klaviyo: held and failed messages. */
function KlaviyoStatus({ data, checking, onCheck }: { data: IntegrationsView; checking: boolean; onCheck: () => void }) {
  const { apiKey, health } = data.klaviyo;
  const c = health.connection;
  return (
    <div className="mt-4 space-y-2 border-t border-slate-100 pt-4 text-sm" data-testid="klaviyo-status" aria-live="polite">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p>
          {!apiKey.configured ? <span className="text-slate-700">Not connected: messages to Klaviyo wait, held, until a key is saved.</span>
            : !c ? <span className="text-slate-700">Not checked yet.</span>
              : c.ok ? <span className="font-medium text-emerald-800">Connected. {c.detail}</span>
                : <span className="font-medium text-red-700">The key does not work: {c.detail}</span>}
          {c ? <span className="block text-xs text-slate-500">Checked {formatDateTime(c.checkedAt)}</span> : null}
        </p>
        {apiKey.configured ? <Button size="sm" variant="secondary" loading={checking} onClick={onCheck}>Check connection</Button> : null}
      </div>
      {health.profilesWaiting > 0 ? (
        <p className="text-xs text-slate-600">{formatNumber(health.profilesWaiting)} profiles have new points, tiers or stages to send{apiKey.configured ? ' (within a minute)' : ' once a key is saved'}.</p>
      ) : null}
      {health.held + health.failed > 0 ? (
        <p className="text-slate-700">
          {formatNumber(health.held)} held and {formatNumber(health.failed)} failed messages.
          {health.lastProblem ? <span className="block text-xs text-slate-600">Latest: {health.lastProblem.reason} ({formatDateTime(health.lastProblem.at)})</span> : null}
        </p>
      ) : null}
    </div>
  );
}

'use client';

import { CheckCircle2, CircleAlert, X } from 'lucide-react';
import { useEffect, useState, type FormEvent } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/ui/toast';
import { useDisconnectShopify, useRepairShopifyWebhooks, useStartShopifyInstall } from '@/hooks/use-settings';
import { errorText } from '@/lib/error-text';
import { formatDateTime } from '@/lib/format';
import type { ShopifyAppView } from '@/lib/settings/schemas';
import { INSTALL_MESSAGES, isInstallOutcome, type InstallOutcome } from '@/lib/shopify/outcomes';

const TOPIC_LABELS: Record<string, string> = {
  ORDERS_CREATE: 'Order created',
  ORDERS_PAID: 'Order paid',
  ORDERS_CANCELLED: 'Order cancelled',
  REFUNDS_CREATE: 'Refund',
  APP_UNINSTALLED: 'App uninstalled',
};

/**
 * What the install redirect came back with (`?shopify=<outcome>&shopify_shop=<shop>`), read
 * once after hydration (the page itself is the same for every visit); `onShop` gets the store
 * Shopify named, to fill the form in.
 */
function useInstallReturn(onShop: (shop: string) => void): { outcome: InstallOutcome | null; dismiss: () => void } {
  const [outcome, setOutcome] = useState<InstallOutcome | null>(null);
  useEffect(() => {
    const q = new URLSearchParams(window.location.search);
    const o = q.get('shopify');
    const shop = q.get('shopify_shop');
    // eslint-disable-next-line react-hooks/set-state-in-effect
    if (isInstallOutcome(o)) setOutcome(o);
    if (shop) onShop(shop);
    // Once, on arrival: the address does not change while the page is open.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const dismiss = () => {
    setOutcome(null);
    const url = new URL(window.location.href);
    url.searchParams.delete('shopify');
    window.history.replaceState(null, '', url);
  };
  return { outcome, dismiss };
}

/**
 * The Shopify app: connect a store in a few clicks (OAuth; the app registers its webhooks),
 * see what is registered and repair it, or disconnect. Stores without the app use the manual
 * connection below it.
 */
export function ShopifyAppCard({ app, shopDomain }: { app: ShopifyAppView; shopDomain: string | null }) {
  const start = useStartShopifyInstall();
  const repair = useRepairShopifyWebhooks();
  const disconnect = useDisconnectShopify();
  const { toast } = useToast();
  const [shop, setShop] = useState(shopDomain ?? '');
  const back = useInstallReturn(setShop);
  const [shopError, setShopError] = useState<string | null>(null);
  const [confirmDisconnect, setConfirmDisconnect] = useState(false);
  const install = app.install;

  async function connect(e?: FormEvent<HTMLFormElement>) {
    e?.preventDefault();
    setShopError(null);
    try {
      const r = await start.mutateAsync(install?.shop ?? shop);
      window.location.assign(r.authorizeUrl);
    } catch (err) {
      setShopError(errorText(err, 'Could not start the install').replace(/^shop: /, ''));
    }
  }

  async function doRepair() {
    try {
      const r = await repair.mutateAsync();
      if (r.problems.length === 0) toast({ title: 'Webhooks registered', description: 'Every topic the app needs is registered.', variant: 'success' });
      else toast({ title: 'Some webhooks were refused', description: r.problems.map((p) => `${TOPIC_LABELS[p.topic] ?? p.topic}: ${p.message}`).join('; '), variant: 'error' });
    } catch (err) {
      toast({ title: 'Could not repair the webhooks', description: errorText(err, 'Try again'), variant: 'error' });
    }
  }

  async function doDisconnect() {
    try {
      await disconnect.mutateAsync();
      toast({ title: 'Store disconnected', description: 'Uninstall the app in your Shopify admin too, if you have not.', variant: 'success' });
    } catch (err) {
      toast({ title: 'Could not disconnect', description: errorText(err, 'Try again'), variant: 'error' });
    } finally {
      setConfirmDisconnect(false);
    }
  }

  const missing = install ? install.webhooks.filter((w) => w.registeredAt === null).length : 0;

  return (
    <Card id="shopify">
      <CardHeader title="Shopify" description="Install the app in your store: Shopify confirms the store is yours and the app registers its webhooks." />
      <CardBody className="space-y-4">
        {back.outcome ? (
          <div role={back.outcome === 'connected' ? 'status' : 'alert'} data-testid="shopify-outcome"
            className={`flex items-start gap-2 rounded-md p-3 text-sm ${back.outcome === 'connected' ? 'bg-emerald-50 text-emerald-900' : 'bg-red-50 text-red-900'}`}>
            {back.outcome === 'connected' ? <CheckCircle2 className="mt-0.5 h-4 w-4 shrink-0" aria-hidden /> : <CircleAlert className="mt-0.5 h-4 w-4 shrink-0" aria-hidden />}
            <p className="min-w-0 flex-1">{INSTALL_MESSAGES[back.outcome]}</p>
            <button type="button" onClick={back.dismiss} aria-label="Dismiss" className="rounded p-0.5 hover:bg-black/5 focus-visible:outline-2">
              <X className="h-4 w-4" aria-hidden />
            </button>
          </div>
        ) : null}

        {!install ? (
          app.available ? (
            <form onSubmit={(e) => void connect(e)} className="space-y-3" aria-label="Connect Shopify">
              <Field label="Store domain" htmlFor="install-shop" hint="Your store’s myshopify.com address, e.g. my-store.myshopify.com" error={shopError ?? undefined}>
                <Input id="install-shop" value={shop} onChange={(e) => setShop(e.target.value)} placeholder="my-store.myshopify.com" autoComplete="off"
                  invalid={Boolean(shopError)} aria-describedby={fieldDescribedBy('install-shop', { hint: true, error: Boolean(shopError) })} />
              </Field>
              <Button type="submit" loading={start.isPending}>Connect Shopify</Button>
            </form>
          ) : (
            <p className="text-sm text-slate-700">
              Installing the app is not set up on this server (it needs <code className="font-mono text-xs">SHOPIFY_API_KEY</code> and{' '}
              <code className="font-mono text-xs">SHOPIFY_API_SECRET</code>). Until then, connect your shop by hand below.
            </p>
          )
        ) : (
          <div className="space-y-4" data-testid="shopify-install">
            <div className="flex flex-wrap items-center gap-2 text-sm">
              <span className="min-w-0 break-all font-medium text-slate-900">{install.shop}</span>
              {install.uninstalledAt
                ? <Badge variant="warning">Disconnected {formatDateTime(install.uninstalledAt)}</Badge>
                : <Badge variant="success">Connected since {formatDateTime(install.installedAt)}</Badge>}
            </div>
            {install.uninstalledAt ? (
              <p className="text-sm text-slate-700">
                Orders no longer arrive through the app: it was uninstalled from the store, or disconnected here. Your data stays; if the app
                stays uninstalled, Shopify asks for the store’s data to be deleted 48 hours later, and it is. Another account may connect this
                store now. Install it again to resume.
              </p>
            ) : (
              <div>
                <p className="text-sm font-medium text-slate-700">Webhooks the app registered</p>
                <ul className="mt-2 divide-y divide-slate-100 rounded-md border border-slate-200 text-sm">
                  {install.webhooks.map((w) => (
                    <li key={w.topic} className="flex flex-wrap items-center justify-between gap-2 px-3 py-2">
                      <span>{TOPIC_LABELS[w.topic] ?? w.topic}</span>
                      {w.registeredAt
                        ? <Badge variant="success">Registered {formatDateTime(w.registeredAt)}</Badge>
                        : <Badge variant="danger">Missing</Badge>}
                    </li>
                  ))}
                </ul>
                <p className="mt-2 text-xs text-slate-600">
                  {missing > 0 ? `${missing} missing: orders of those kinds will not arrive until you repair them.` : 'All registered.'}{' '}
                  Permissions granted: <span className="font-mono">{install.scopes}</span>.
                </p>
              </div>
            )}
            <div className="flex flex-wrap gap-2">
              {install.uninstalledAt
                ? <Button size="sm" loading={start.isPending} onClick={() => void connect()}>Install again</Button>
                : <>
                  <Button size="sm" variant="secondary" loading={repair.isPending} onClick={() => void doRepair()}>Repair webhooks</Button>
                  <Button size="sm" variant="ghost" onClick={() => setConfirmDisconnect(true)}>Disconnect</Button>
                </>}
            </div>
            {shopError ? <p role="alert" className="text-xs font-medium text-red-700">{shopError}</p> : null}
          </div>
        )}
      </CardBody>
      <Modal open={confirmDisconnect} onClose={() => setConfirmDisconnect(false)} title="Disconnect this store?"
        description="The app’s webhooks are removed from the store and orders stop arriving; the store may then be connected to another account. Your customers, orders and figures stay, and Shopify’s privacy requests for the store still reach this account. Uninstall the app in your Shopify admin as well."
        footer={<>
          <Button variant="ghost" onClick={() => setConfirmDisconnect(false)}>Cancel</Button>
          <Button variant="danger" loading={disconnect.isPending} onClick={() => void doDisconnect()}>Disconnect</Button>
        </>} />
    </Card>
  );
}

'use client';

import { KeyRound } from 'lucide-react';
import { useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { CopyButton } from '@/components/ui/copy-button';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/ui/toast';
import { useRotateServerKey } from '@/hooks/use-settings';
import type { IntegrationsView } from '@/lib/settings/schemas';

/** The secret server key for checkout backends: created or rotated here, shown once. */
export function ServerKeyCard({ status }: { status: IntegrationsView['serverKey'] }) {
  const rotate = useRotateServerKey();
  const { toast } = useToast();
  const [confirm, setConfirm] = useState(false);
  const [shown, setShown] = useState<string | null>(null);

  async function doRotate() {
    try {
      const { serverKey } = await rotate.mutateAsync();
      setShown(serverKey);
    } catch (err) {
      toast({ title: 'Could not create the key', description: err instanceof Error ? err.message : undefined, variant: 'error' });
    } finally {
      setConfirm(false);
    }
  }

  return (
    <Card>
      <CardHeader
        title="Server key"
        description="Lets your checkout backend validate coupon codes (POST /api/coupons/validate with Authorization: Bearer <key>). Keep it secret."
        actions={
          <Button size="sm" variant="secondary" onClick={() => (status.configured ? setConfirm(true) : void doRotate())} loading={rotate.isPending}>
            <KeyRound className="h-4 w-4" aria-hidden />
            {status.configured ? 'Rotate key' : 'Create key'}
          </Button>
        }
      />
      <CardBody className="space-y-3">
        {status.configured ? (
          <p className="text-sm text-slate-700">
            <Badge variant="success">Active</Badge> ends in <code className="font-mono">{status.last4}</code>
          </p>
        ) : (
          <p className="text-sm text-slate-600"><Badge variant="secondary">Not set</Badge> No server key yet.</p>
        )}
        {shown ? (
          <div role="status" className="rounded-md border border-amber-200 bg-amber-50 p-3">
            <p className="text-sm font-medium text-amber-900">Copy this key now: it will not be shown again.</p>
            <div className="mt-2 flex items-center gap-2">
              <code className="min-w-0 flex-1 truncate rounded bg-white px-2 py-1.5 font-mono text-xs">{shown}</code>
              <CopyButton text={shown} aria-label="Copy server key" />
            </div>
          </div>
        ) : null}
      </CardBody>
      <Modal open={confirm} onClose={() => setConfirm(false)} title="Rotate the server key?"
        description="The current key stops working at once. Update your checkout backend with the new key."
        footer={<>
          <Button variant="ghost" onClick={() => setConfirm(false)}>Cancel</Button>
          <Button variant="danger" loading={rotate.isPending} onClick={() => void doRotate()}>Rotate key</Button>
        </>} />
    </Card>
  );
}

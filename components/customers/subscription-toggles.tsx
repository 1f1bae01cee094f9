'use client';

import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Switch } from '@/components/ui/switch';
import { useToast } from '@/components/ui/toast';
import { useUpdateCustomer } from '@/hooks/use-customers';
import type { Customer, CustomerPatch } from '@/lib/customers/schemas';

/** Email and SMS marketing consent; each switch saves immediately and confirms with a toast. */
export function SubscriptionToggles({ customer }: { customer: Customer }) {
  const update = useUpdateCustomer(customer.id);
  const { toast } = useToast();

  async function change(patch: CustomerPatch, what: string, on: boolean) {
    try {
      await update.mutateAsync(patch);
      toast({ title: `${what} ${on ? 'turned on' : 'turned off'}`, variant: 'success' });
    } catch (err) {
      toast({ title: `Could not change ${what.toLowerCase()}`, description: err instanceof Error ? err.message : undefined, variant: 'error' });
    }
  }

  const pending = update.isPending ? update.variables : undefined;
  return (
    <Card>
      <CardHeader title="Subscriptions" description="Marketing consent. Turning one off stops campaigns on that channel." />
      <CardBody className="space-y-4">
        <Switch label="Email marketing" checked={pending?.emailSubscribed ?? customer.emailSubscribed} disabled={update.isPending}
          onChange={(on) => void change({ emailSubscribed: on }, 'Email marketing', on)} />
        <Switch label="SMS marketing" checked={pending?.smsSubscribed ?? customer.smsSubscribed} disabled={update.isPending}
          description={customer.phone ? undefined : 'No phone number on file.'}
          onChange={(on) => void change({ smsSubscribed: on }, 'SMS marketing', on)} />
      </CardBody>
    </Card>
  );
}

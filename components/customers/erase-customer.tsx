'use client';

import { Eraser } from 'lucide-react';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/ui/toast';
import { useEraseCustomer } from '@/hooks/use-customers';
import { errorText } from '@/lib/error-text';

/** What an erasure takes away and what it keeps, as the merchant is told before confirming. */
const ERASED = [
  'Their email, name, phone and the shop’s and Klaviyo’s ids for them',
  'The email and checkout notes on their orders, and what the storefront sent with their visits',
  'Their birthday, the address a friend’s referral named them by, and the email on their coupon uses',
  'Gift messages, names and addresses they sent or were sent; gifts to them not yet claimed are cancelled, gifts they sent stay the recipient’s',
  'What their Klaviyo messages said (waiting ones are cancelled); with a Klaviyo key saved, Klaviyo is asked to delete their profile',
];
const KEPT = 'Orders, revenue, points, coupon and campaign results stay, without anything that names them, so your figures stay true.';

/** "Erase data": a shopper's request to be forgotten, confirmed in a dialog that says what goes. */
export function EraseCustomer({ id, email }: { id: string; email: string }) {
  const [open, setOpen] = useState(false);
  const erase = useEraseCustomer(id);
  const { toast } = useToast();
  const close = () => {
    if (!erase.isPending) setOpen(false);
  };
  const confirm = () => {
    if (erase.isPending) return;
    erase.mutate(undefined, {
      onSuccess: () => {
        toast({ variant: 'success', title: 'Personal data erased', description: 'The record stays, with nothing that names them.' });
        setOpen(false);
      },
      onError: (err) => toast({ variant: 'error', title: 'Could not erase', description: errorText(err, 'Nothing was changed. Please try again.') }),
    });
  };
  return (
    <>
      <Button variant="secondary" size="sm" onClick={() => setOpen(true)}
        title="Erase this customer's personal data from every module, at their request">
        <Eraser className="size-4" aria-hidden="true" /> Erase data
      </Button>
      <Modal open={open} onClose={close} dismissOnBackdrop={false} title="Erase this customer’s personal data?"
        description={`Everything that identifies ${email} is erased from every module, at once. This cannot be undone.`}
        footer={
          <>
            <Button variant="secondary" onClick={close}>Keep it</Button>
            <Button variant="danger" onClick={confirm} aria-disabled={erase.isPending}>
              {erase.isPending ? 'Erasing…' : 'Erase data'}
            </Button>
          </>
        }>
        <div className="space-y-3 text-sm text-slate-700">
          <p className="font-medium text-slate-900">Erased:</p>
          <ul className="list-disc space-y-1 pl-5">
            {ERASED.map((line) => <li key={line}>{line}</li>)}
          </ul>
          <p>{KEPT}</p>
        </div>
      </Modal>
    </>
  );
}

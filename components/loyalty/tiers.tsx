'use client';

import { Plus } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Field } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { useCreateTier, useDeleteTier, useTiers, useUpdateTier } from '@/hooks/use-loyalty';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { issuesByField } from '@/lib/fields';
import { formatMoney, formatNumber } from '@/lib/format';
import { tierCreate, type Program, type TierList } from '@/lib/loyalty/schemas';

type TierRow = TierList['tiers'][number];
const thresholdText = (basis: Program['tierBasis'], v: number) =>
  basis === 'points' ? `${formatNumber(v)} points earned` : basis === 'spend' ? `${formatMoney(v)} spent` : `${formatNumber(v)} orders`;

/** Tiers: ranked by position; reached by the program's basis; each multiplies purchase points. */
export function LoyaltyTiers() {
  const [editing, setEditing] = useState<{ tier: TierRow | null } | null>(null);
  return (
    <LoyaltyShell title="Tiers" description="Members move up as they earn. A higher tier multiplies the points its members earn from orders, and rewards can be kept for it."
      actions={<Button onClick={() => setEditing({ tier: null })}><Plus className="size-4" aria-hidden="true" /> New tier</Button>}>
      {(program) => (
        <>
          <TierTable program={program} onEdit={(tier) => setEditing({ tier })} />
          {editing ? <TierModal tier={editing.tier} program={program} onClose={() => setEditing(null)} /> : null}
        </>
      )}
    </LoyaltyShell>
  );
}

function TierTable({ program, onEdit }: { program: Program; onEdit: (t: TierRow) => void }) {
  const { data, isPending, error, refetch } = useTiers();
  const remove = useDeleteTier();
  const { toast } = useToast();
  async function del(t: TierRow) {
    try {
      await remove.mutateAsync(t.id);
      toast({ title: `${t.name} removed`, description: 'Its members moved to the tiers that remain.', variant: 'success' });
    } catch (err) {
      toast({ title: `Could not remove ${t.name}`, description: errorText(err, 'Try again'), variant: 'error' });
    }
  }
  if (isPending) return <LoadingBlock label="Loading tiers" rows={4} className="rounded-lg border border-slate-200 bg-white" />;
  if (error) return <ErrorState title="Could not load tiers" message={error.message} onRetry={() => void refetch()} />;
  return (
    <Card>
      <Table>
        <caption className="sr-only">Tiers from lowest to highest</caption>
        <THead><TR><TH>Tier</TH><TH>Reached at</TH><TH className="text-right">Points ×</TH><TH>Perks</TH><TH className="text-right">Members</TH><TH><span className="sr-only">Actions</span></TH></TR></THead>
        <TBody>
          {data.tiers.map((t) => (
            <TR key={t.id}>
              <TD><span className="inline-flex items-center gap-2 font-medium"><span aria-hidden="true" className="size-3 rounded-full" style={{ backgroundColor: t.badgeColor ?? '#94a3b8' }} />{t.name}</span></TD>
              <TD>{thresholdText(program.tierBasis, t.threshold)}</TD>
              <TD className="text-right tabular-nums">{t.pointsMultiplier}</TD>
              <TD className="max-w-64 text-sm text-slate-600">{t.perks.join(' · ') || '—'}</TD>
              <TD className="text-right tabular-nums">{formatNumber(t.members)}</TD>
              <TD className="whitespace-nowrap text-right">
                <Button variant="ghost" size="sm" onClick={() => onEdit(t)} aria-label={`Edit ${t.name}`}>Edit</Button>
                <Button variant="ghost" size="sm" onClick={() => void del(t)} aria-label={`Remove ${t.name}`}>Remove</Button>
              </TD>
            </TR>
          ))}
        </TBody>
      </Table>
    </Card>
  );
}

function TierModal({ tier, program, onClose }: { tier: TierRow | null; program: Program; onClose: () => void }) {
  const { data } = useTiers();
  const nextOrder = Math.max(-1, ...(data?.tiers ?? []).map((t) => t.tierOrder)) + 1;
  const [form, setForm] = useState({
    name: tier?.name ?? '', tierOrder: String(tier?.tierOrder ?? nextOrder), threshold: String(tier?.threshold ?? ''),
    pointsMultiplier: String(tier?.pointsMultiplier ?? 1), perks: (tier?.perks ?? []).join('\n'), badgeColor: tier?.badgeColor ?? '#0f766e',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useCreateTier();
  const update = useUpdateTier();
  const { toast } = useToast();
  const set = (k: keyof typeof form, v: string) => { setForm((f) => ({ ...f, [k]: v })); setErrors({}); };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const parsed = tierCreate.safeParse({
      name: form.name, tierOrder: Number(form.tierOrder), threshold: form.threshold.trim() === '' ? Number.NaN : Number(form.threshold),
      pointsMultiplier: Number(form.pointsMultiplier), perks: form.perks.split('\n').map((p) => p.trim()).filter(Boolean), badgeColor: form.badgeColor,
    });
    if (!parsed.success) {
      setErrors(issuesByField(parsed.error));
      return;
    }
    try {
      if (tier) await update.mutateAsync({ id: tier.id, patch: parsed.data });
      else await create.mutateAsync(parsed.data);
      toast({ title: tier ? 'Tier saved' : 'Tier added', description: 'Members were moved to the tiers they now reach.', variant: 'success' });
      onClose();
    } catch (err) {
      const field = err instanceof ApiError ? err.field : undefined;
      setErrors({ [field ?? 'form']: errorText(err, 'Could not save the tier') });
    }
  }

  const unit = program.tierBasis === 'points' ? 'points earned' : program.tierBasis === 'spend' ? 'spent (money)' : 'orders';
  return (
    <Modal open onClose={onClose} title={tier ? `Edit ${tier.name}` : 'New tier'}
      footer={<><Button variant="secondary" onClick={onClose}>Cancel</Button><Button type="submit" form="tier-form" loading={create.isPending || update.isPending}>Save</Button></>}>
      <form id="tier-form" onSubmit={submit} method="post" noValidate className="grid gap-4 sm:grid-cols-2" aria-label="Tier">
        <Field label="Name" htmlFor="tier-name" error={errors.name} required className="sm:col-span-2">
          <Input id="tier-name" value={form.name} maxLength={60} invalid={Boolean(errors.name)} onChange={(e) => set('name', e.target.value)} />
        </Field>
        <Field label={`Reached at (${unit})`} htmlFor="tier-threshold" error={errors.threshold} required>
          <Input id="tier-threshold" inputMode="decimal" value={form.threshold} invalid={Boolean(errors.threshold)} onChange={(e) => set('threshold', e.target.value)} />
        </Field>
        <Field label="Position" htmlFor="tier-order" hint="0 is the first tier" error={errors.tierOrder} required>
          <Input id="tier-order" inputMode="numeric" value={form.tierOrder} invalid={Boolean(errors.tierOrder)} onChange={(e) => set('tierOrder', e.target.value)} />
        </Field>
        <Field label="Points multiplier" htmlFor="tier-multiplier" hint="1.5 = half as many points again on orders" error={errors.pointsMultiplier}>
          <Input id="tier-multiplier" inputMode="decimal" value={form.pointsMultiplier} invalid={Boolean(errors.pointsMultiplier)} onChange={(e) => set('pointsMultiplier', e.target.value)} />
        </Field>
        <Field label="Badge colour" htmlFor="tier-color" error={errors.badgeColor}>
          <Input id="tier-color" type="color" value={form.badgeColor} onChange={(e) => set('badgeColor', e.target.value)} className="h-10 w-20 p-1" />
        </Field>
        <Field label="Perks" htmlFor="tier-perks" hint="One per line, shown to members" error={errors.perks} className="sm:col-span-2">
          <textarea id="tier-perks" rows={3} value={form.perks} onChange={(e) => set('perks', e.target.value)}
            className="block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus-visible:outline-2 focus-visible:outline-brand-600" />
        </Field>
        {errors.form ? <p role="alert" className="text-sm font-medium text-red-700 sm:col-span-2">{errors.form}</p> : null}
      </form>
    </Modal>
  );
}

'use client';

import { Gift, Plus } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Field } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { useCreateReward, useDeleteReward, useRewards, useTiers, useUpdateReward } from '@/hooks/use-loyalty';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { issuesByField } from '@/lib/fields';
import { formatMoney, formatNumber } from '@/lib/format';
import { rewardCreate, type Reward, type RewardType, type TierList } from '@/lib/loyalty/schemas';

export const REWARD_TYPE_LABELS: Record<RewardType, string> = {
  percentage_discount: 'Percentage off',
  fixed_discount: 'Amount off',
  free_shipping: 'Free shipping',
  free_product: 'Free product',
};

export function describeReward(r: Pick<Reward, 'rewardType' | 'rewardValue' | 'rewardProductId'>): string {
  if (r.rewardType === 'percentage_discount') return `${r.rewardValue ?? 0}% off`;
  if (r.rewardType === 'fixed_discount') return `${formatMoney(r.rewardValue ?? 0)} off`;
  if (r.rewardType === 'free_shipping') return 'Free shipping';
  return `Free product ${r.rewardProductId ?? ''} (up to ${formatMoney(r.rewardValue ?? 0)})`;
}

/** Rewards: what points buy. Each redemption issues a single-use code through the coupon manager. */
export function LoyaltyRewards() {
  const [editing, setEditing] = useState<{ reward: Reward | null } | null>(null);
  return (
    <LoyaltyShell title="Rewards" description="What members can spend points on. Redeeming one spends the points and issues a single-use discount code."
      actions={<Button onClick={() => setEditing({ reward: null })}><Plus className="size-4" aria-hidden="true" /> New reward</Button>}>
      {() => (
        <>
          <RewardsList onEdit={(reward) => setEditing({ reward })} onCreate={() => setEditing({ reward: null })} />
          {editing ? <RewardModal reward={editing.reward} onClose={() => setEditing(null)} /> : null}
        </>
      )}
    </LoyaltyShell>
  );
}

function RewardsList({ onEdit, onCreate }: { onEdit: (r: Reward) => void; onCreate: () => void }) {
  const { data, isPending, error, refetch } = useRewards();
  const tiers = useTiers();
  const remove = useDeleteReward();
  const { toast } = useToast();
  const tierName = (id: string | null) => (id ? tiers.data?.tiers.find((t) => t.id === id)?.name ?? '—' : 'Everyone');

  async function del(r: Reward) {
    try {
      await remove.mutateAsync(r.id);
      toast({ title: `${r.name} removed`, description: 'Codes already issued stay valid; its history is kept.', variant: 'success' });
    } catch (err) {
      toast({ title: `Could not remove ${r.name}`, description: errorText(err, 'Try again'), variant: 'error' });
    }
  }

  if (isPending) return <LoadingBlock label="Loading rewards" rows={5} className="rounded-lg border border-slate-200 bg-white" />;
  if (error) return <ErrorState title="Could not load rewards" message={error.message} onRetry={() => void refetch()} />;
  if (data.rewards.length === 0) {
    return <Card><EmptyState icon={Gift} title="No rewards yet" description="Add something members can spend points on, such as $5 off for 500 points." action={<Button onClick={onCreate}>New reward</Button>} /></Card>;
  }
  return (
    <Card>
      <Table>
        <caption className="sr-only">Rewards by points cost</caption>
        <THead><TR><TH>Reward</TH><TH className="text-right">Points</TH><TH>For</TH><TH className="text-right">Redeemed</TH><TH>Status</TH><TH><span className="sr-only">Actions</span></TH></TR></THead>
        <TBody>
          {data.rewards.map((r) => (
            <TR key={r.id}>
              <TD className="max-w-64"><span className="block truncate font-medium">{r.name}</span><span className="block text-xs text-slate-500">{describeReward(r)}</span></TD>
              <TD className="text-right tabular-nums">{formatNumber(r.pointsCost)}</TD>
              <TD>{tierName(r.minTierId)}{r.minOrders ? ` · ${r.minOrders}+ orders` : ''}</TD>
              <TD className="text-right tabular-nums">{formatNumber(r.totalRedeemed)}{r.totalAvailable ? ` of ${formatNumber(r.totalAvailable)}` : ''}</TD>
              <TD><Badge variant={r.isActive ? 'success' : 'secondary'}>{r.isActive ? 'Active' : 'Off'}</Badge></TD>
              <TD className="whitespace-nowrap text-right">
                <Button variant="ghost" size="sm" onClick={() => onEdit(r)} aria-label={`Edit ${r.name}`}>Edit</Button>
                <Button variant="ghost" size="sm" onClick={() => void del(r)} aria-label={`Remove ${r.name}`}>Remove</Button>
              </TD>
            </TR>
          ))}
        </TBody>
      </Table>
    </Card>
  );
}

type Form = { name: string; pointsCost: string; rewardType: RewardType; rewardValue: string; rewardProductId: string; minTierId: string; minOrders: string; redemptionLimit: string; totalAvailable: string; isActive: boolean };

const toForm = (r: Reward | null): Form => ({
  name: r?.name ?? '', pointsCost: r ? String(r.pointsCost) : '', rewardType: r?.rewardType ?? 'fixed_discount',
  rewardValue: r?.rewardValue != null ? String(r.rewardValue) : '', rewardProductId: r?.rewardProductId ?? '', minTierId: r?.minTierId ?? '',
  minOrders: r?.minOrders != null ? String(r.minOrders) : '', redemptionLimit: r?.redemptionLimit != null ? String(r.redemptionLimit) : '',
  totalAvailable: r?.totalAvailable != null ? String(r.totalAvailable) : '', isActive: r?.isActive ?? true,
});

const num = (v: string) => (v.trim() === '' ? null : Number(v));

function RewardModal({ reward, onClose }: { reward: Reward | null; onClose: () => void }) {
  const [form, setForm] = useState<Form>(toForm(reward));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useCreateReward();
  const update = useUpdateReward();
  const tiers = useTiers();
  const { toast } = useToast();
  const set = <K extends keyof Form>(k: K, v: Form[K]) => { setForm((f) => ({ ...f, [k]: v })); setErrors({}); };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const body = {
      name: form.name, pointsCost: num(form.pointsCost) ?? Number.NaN, rewardType: form.rewardType,
      rewardValue: form.rewardType === 'free_shipping' ? null : num(form.rewardValue),
      rewardProductId: form.rewardType === 'free_product' ? form.rewardProductId : null,
      minTierId: form.minTierId || null, minOrders: num(form.minOrders), redemptionLimit: num(form.redemptionLimit),
      totalAvailable: num(form.totalAvailable), isActive: form.isActive,
    };
    const parsed = rewardCreate.safeParse(body);
    if (!parsed.success) {
      setErrors(issuesByField(parsed.error));
      return;
    }
    try {
      if (reward) await update.mutateAsync({ id: reward.id, patch: parsed.data });
      else await create.mutateAsync(parsed.data);
      toast({ title: reward ? 'Reward saved' : 'Reward added', description: parsed.data.name, variant: 'success' });
      onClose();
    } catch (err) {
      const field = err instanceof ApiError ? err.field : undefined;
      setErrors({ [field ?? 'form']: errorText(err, 'Could not save the reward') });
    }
  }

  const valueLabel = form.rewardType === 'percentage_discount' ? 'Percent off' : form.rewardType === 'free_product' ? 'Product’s price' : 'Amount off';
  return (
    <Modal open onClose={onClose} title={reward ? `Edit ${reward.name}` : 'New reward'} size="lg"
      footer={<><Button variant="secondary" onClick={onClose}>Cancel</Button><Button type="submit" form="reward-form" loading={create.isPending || update.isPending}>Save</Button></>}>
      <form id="reward-form" onSubmit={submit} method="post" noValidate className="grid gap-4 sm:grid-cols-2" aria-label="Reward">
        <Field label="Name" htmlFor="reward-name" error={errors.name} required className="sm:col-span-2">
          <Input id="reward-name" value={form.name} maxLength={80} invalid={Boolean(errors.name)} onChange={(e) => set('name', e.target.value)} />
        </Field>
        <Field label="Points cost" htmlFor="reward-cost" error={errors.pointsCost} required>
          <Input id="reward-cost" inputMode="numeric" value={form.pointsCost} invalid={Boolean(errors.pointsCost)} onChange={(e) => set('pointsCost', e.target.value)} />
        </Field>
        <Field label="Reward" htmlFor="reward-type">
          <Select id="reward-type" value={form.rewardType} onChange={(e) => set('rewardType', e.target.value as RewardType)}>
            {Object.entries(REWARD_TYPE_LABELS).map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </Select>
        </Field>
        {form.rewardType !== 'free_shipping' ? (
          <Field label={valueLabel} htmlFor="reward-value" error={errors.rewardValue} required>
            <Input id="reward-value" inputMode="decimal" value={form.rewardValue} invalid={Boolean(errors.rewardValue)} onChange={(e) => set('rewardValue', e.target.value)} />
          </Field>
        ) : null}
        {form.rewardType === 'free_product' ? (
          <Field label="Product id" htmlFor="reward-product" error={errors.rewardProductId} required>
            <Input id="reward-product" value={form.rewardProductId} invalid={Boolean(errors.rewardProductId)} onChange={(e) => set('rewardProductId', e.target.value)} />
          </Field>
        ) : null}
        <Field label="Open to" htmlFor="reward-tier" hint="A tier and every tier above it." error={errors.minTierId}>
          <Select id="reward-tier" value={form.minTierId} onChange={(e) => set('minTierId', e.target.value)}>
            <option value="">Every member</option>
            {(tiers.data as TierList | undefined)?.tiers.map((t) => <option key={t.id} value={t.id}>{t.name} and above</option>)}
          </Select>
        </Field>
        <Field label="Orders needed" htmlFor="reward-orders" hint="Optional" error={errors.minOrders}>
          <Input id="reward-orders" inputMode="numeric" value={form.minOrders} invalid={Boolean(errors.minOrders)} onChange={(e) => set('minOrders', e.target.value)} />
        </Field>
        <Field label="Per member, at most" htmlFor="reward-limit" hint="Optional" error={errors.redemptionLimit}>
          <Input id="reward-limit" inputMode="numeric" value={form.redemptionLimit} invalid={Boolean(errors.redemptionLimit)} onChange={(e) => set('redemptionLimit', e.target.value)} />
        </Field>
        <Field label="In stock" htmlFor="reward-stock" hint="Optional: how many can be redeemed in all" error={errors.totalAvailable}>
          <Input id="reward-stock" inputMode="numeric" value={form.totalAvailable} invalid={Boolean(errors.totalAvailable)} onChange={(e) => set('totalAvailable', e.target.value)} />
        </Field>
        <label className="flex items-center gap-2 text-sm sm:col-span-2">
          <input type="checkbox" checked={form.isActive} onChange={(e) => set('isActive', e.target.checked)} className="size-4" /> Members can redeem it now
        </label>
        {errors.form ? <p role="alert" className="text-sm font-medium text-red-700 sm:col-span-2">{errors.form}</p> : null}
      </form>
    </Modal>
  );
}

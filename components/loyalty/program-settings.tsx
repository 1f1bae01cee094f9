'use client';

import { useState, type FormEvent } from 'react';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Field } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Select } from '@/components/ui/select';
import { useToast } from '@/components/ui/toast';
import { useUpdateProgram } from '@/hooks/use-loyalty';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { issuesByField } from '@/lib/fields';
import { programPatch, type Program } from '@/lib/loyalty/schemas';

/** Program settings: earning, the value of a point, expiry, how tiers are reached, referral rewards. */
export function LoyaltyProgramSettings() {
  return (
    <LoyaltyShell title="Program settings" description="How members earn, what a point is worth, when points expire, how tiers are reached and what referrals give.">
      {(program) => <SettingsForm key={JSON.stringify(program)} program={program} />}
    </LoyaltyShell>
  );
}

const str = (v: number | null) => (v === null ? '' : String(v));
const num = (v: string) => (v.trim() === '' ? null : Number(v));

function SettingsForm({ program }: { program: Program }) {
  const update = useUpdateProgram();
  const { toast } = useToast();
  const [f, setF] = useState({
    enabled: program.enabled, pointsPerUnit: String(program.pointsPerUnit), pointValue: String(program.pointValue),
    expiryMonths: str(program.expiryMonths), tierBasis: program.tierBasis, signupPoints: str(program.signupPoints),
    birthdayPoints: str(program.birthdayPoints), reviewPoints: str(program.reviewPoints), referralPercent: String(program.referralPercent),
    friendRewardType: program.friendRewardType, friendRewardValue: String(program.friendRewardValue), friendMinimumPurchase: str(program.friendMinimumPurchase),
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => { setF((x) => ({ ...x, [k]: v })); setErrors({}); };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const parsed = programPatch.safeParse({
      enabled: f.enabled, pointsPerUnit: Number(f.pointsPerUnit), pointValue: Number(f.pointValue), expiryMonths: num(f.expiryMonths),
      tierBasis: f.tierBasis, signupPoints: num(f.signupPoints), birthdayPoints: num(f.birthdayPoints), reviewPoints: num(f.reviewPoints),
      referralPercent: Number(f.referralPercent), friendRewardType: f.friendRewardType, friendRewardValue: Number(f.friendRewardValue),
      friendMinimumPurchase: num(f.friendMinimumPurchase),
    });
    if (!parsed.success) {
      setErrors(issuesByField(parsed.error));
      return;
    }
    try {
      await update.mutateAsync(parsed.data);
      toast({ title: 'Program settings saved', variant: 'success' });
    } catch (err) {
      const field = err instanceof ApiError ? err.field : undefined;
      setErrors({ [field ?? 'form']: errorText(err, 'Could not save') });
    }
  }

  const numberField = (k: keyof typeof f, label: string, hint: string, mode: 'numeric' | 'decimal' = 'numeric') => (
    <Field label={label} htmlFor={`program-${k}`} hint={hint} error={errors[k]}>
      <Input id={`program-${k}`} inputMode={mode} value={String(f[k])} invalid={Boolean(errors[k])} onChange={(e) => set(k, e.target.value as never)} />
    </Field>
  );

  return (
    <form onSubmit={submit} method="post" noValidate aria-label="Program settings" className="space-y-6">
      <Card>
        <CardHeader title="Earning" description="Leave a way to earn empty to switch it off." />
        <CardBody className="grid gap-4 sm:grid-cols-2">
          <label className="flex items-center gap-2 text-sm sm:col-span-2">
            <input type="checkbox" className="size-4" checked={f.enabled} onChange={(e) => set('enabled', e.target.checked)} />
            The program is on (orders earn points, rewards can be redeemed)
          </label>
          {numberField('pointsPerUnit', 'Points per dollar spent', 'On the order total; tiers multiply it.', 'decimal')}
          {numberField('signupPoints', 'Points for signing up', 'When a shopper leaves their email.')}
          {numberField('birthdayPoints', 'Points on a birthday', 'Once a year, on the member’s birthday.')}
          {numberField('reviewPoints', 'Points for a product review', 'Reported by your store’s backend, once per review.')}
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="Value and expiry" />
        <CardBody className="grid gap-4 sm:grid-cols-2">
          {numberField('pointValue', 'What a point is worth ($)', 'Values the points members hold: the liability on the Loyalty page.', 'decimal')}
          {numberField('expiryMonths', 'Points expire after (months)', 'Empty: never. Points that were spent never expire.')}
          <Field label="Tiers are reached by" htmlFor="program-tierBasis" hint="Changing it moves members to the tiers it gives at once." error={errors.tierBasis}>
            <Select id="program-tierBasis" value={f.tierBasis} onChange={(e) => set('tierBasis', e.target.value as Program['tierBasis'])}>
              <option value="points">Points earned</option>
              <option value="spend">Money spent</option>
              <option value="orders">Orders placed</option>
            </Select>
          </Field>
        </CardBody>
      </Card>
      <Card>
        <CardHeader title="Referrals" description="A member shares their code; a friend’s first order gives the member points and the friend a discount." />
        <CardBody className="grid gap-4 sm:grid-cols-2">
          {numberField('referralPercent', 'Referrer earns (% of the friend’s order, in points)', 'At 1 point per dollar, 10% of a $100 order is 10 points.', 'decimal')}
          <Field label="Friend gets" htmlFor="program-friendRewardType" error={errors.friendRewardType}>
            <Select id="program-friendRewardType" value={f.friendRewardType} onChange={(e) => set('friendRewardType', e.target.value as Program['friendRewardType'])}>
              <option value="percentage">A percentage off</option>
              <option value="fixed_amount">An amount off</option>
            </Select>
          </Field>
          {numberField('friendRewardValue', f.friendRewardType === 'percentage' ? 'Percent off' : 'Amount off ($)', 'A single-use code, valid 90 days.', 'decimal')}
          {numberField('friendMinimumPurchase', 'Minimum order for the friend ($)', 'Optional.', 'decimal')}
        </CardBody>
      </Card>
      {errors.form ? <p role="alert" className="text-sm font-medium text-red-700">{errors.form}</p> : null}
      <Button type="submit" loading={update.isPending}>Save settings</Button>
    </form>
  );
}

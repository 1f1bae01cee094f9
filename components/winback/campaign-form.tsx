'use client';

import { Users } from 'lucide-react';
import { useRouter } from 'next/navigation';
import { useMemo, useState, type FormEvent } from 'react';
import { PageContainer } from '@/components/layout/page-container';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Field } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { INCENTIVE_LABELS, STAGE_LABELS } from '@/components/winback/labels';
import { useCollections } from '@/hooks/use-collections';
import { useDebouncedValue } from '@/hooks/use-debounced-value';
import { useAudiencePreview, useCampaign, useCreateCampaign, useUpdateCampaign } from '@/hooks/use-winback';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { issuesByField } from '@/lib/fields';
import { formatNumber } from '@/lib/format';
import {
  campaignCreate, campaignPatch, INCENTIVE_TYPES, RUNNING_EDITABLE, TARGET_STAGES, type Campaign, type CampaignPatch, type IncentiveType,
} from '@/lib/winback/schemas';

type Stage = (typeof TARGET_STAGES)[number];
interface Form {
  name: string;
  description: string;
  targetStages: Stage[];
  minLifetimeValue: string;
  minDaysInactive: string;
  maxDaysInactive: string;
  targetCollections: string[];
  incentiveType: IncentiveType;
  incentiveValue: string;
  couponDays: string;
  sendDelayDays: string;
  holdoutPercent: string;
  attributionDays: string;
  endsOn: string;
}

const toForm = (c: Campaign | null): Form => ({
  name: c?.name ?? '',
  description: c?.description ?? '',
  targetStages: c?.targetStages ?? ['at_risk', 'churned'],
  minLifetimeValue: String(c?.minLifetimeValue ?? 0),
  minDaysInactive: String(c?.minDaysInactive ?? 0),
  maxDaysInactive: c?.maxDaysInactive != null ? String(c.maxDaysInactive) : '',
  targetCollections: c?.targetCollections ?? [],
  incentiveType: c?.incentiveType ?? 'percentage_discount',
  incentiveValue: c?.incentiveValue != null ? String(c.incentiveValue) : c ? '' : '15',
  couponDays: String(c?.couponDays ?? 30),
  sendDelayDays: String(c?.sendDelayDays ?? 0),
  holdoutPercent: String(c?.holdoutPercent ?? 10),
  attributionDays: String(c?.attributionDays ?? 30),
  endsOn: c?.endsAt ? c.endsAt.slice(0, 10) : '',
});

const num = (v: string) => (v.trim() === '' ? null : Number(v));
const HAS_VALUE: IncentiveType[] = ['percentage_discount', 'fixed_discount', 'points'];
const HAS_CODE: IncentiveType[] = ['percentage_discount', 'fixed_discount', 'free_shipping'];

/** The request body of the form's fields (the end date as the end of that day, UTC). */
function toBody(f: Form) {
  return {
    name: f.name,
    description: f.description.trim() === '' ? null : f.description,
    targetStages: f.targetStages,
    minLifetimeValue: num(f.minLifetimeValue) ?? 0,
    minDaysInactive: num(f.minDaysInactive) ?? 0,
    maxDaysInactive: num(f.maxDaysInactive),
    targetCollections: f.targetCollections,
    incentiveType: f.incentiveType,
    incentiveValue: HAS_VALUE.includes(f.incentiveType) ? num(f.incentiveValue) : null,
    couponDays: num(f.couponDays) ?? 30,
    sendDelayDays: num(f.sendDelayDays) ?? 0,
    holdoutPercent: num(f.holdoutPercent) ?? 0,
    attributionDays: num(f.attributionDays) ?? 30,
    endsAt: f.endsOn ? `${f.endsOn}T23:59:59.000Z` : null,
  };
}

/** The create page: a new draft. */
export function NewCampaign() {
  return <CampaignForm campaign={null} />;
}

/** The edit page: the stored campaign, once loaded. */
export function EditCampaign({ id }: { id: string }) {
  const { data, isPending, error, refetch } = useCampaign(id);
  if (isPending) return <PageContainer title="Edit campaign"><LoadingBlock label="Loading the campaign" rows={8} /></PageContainer>;
  if (error) return <PageContainer title="Edit campaign"><ErrorState title="Could not load the campaign" message={error.message} onRetry={() => void refetch()} /></PageContainer>;
  return <CampaignForm campaign={data} />;
}

function CampaignForm({ campaign }: { campaign: Campaign | null }) {
  const router = useRouter();
  const { toast } = useToast();
  const [form, setForm] = useState<Form>(() => toForm(campaign));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useCreateCampaign();
  const update = useUpdateCampaign();
  const collections = useCollections();
  const running = campaign !== null && campaign.status !== 'draft';
  const locked = (field: string) => running && !(RUNNING_EDITABLE as readonly string[]).includes(field);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setErrors((e) => (e[k] || e.form ? { ...e, [k]: '', form: '' } : e));
  };
  const toggle = <T extends string>(list: T[], v: T) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  // The audience of the fields as typed: only the ones that decide who is in, and only when they are valid.
  const audienceFields = useMemo(() => {
    const b = toBody(form);
    const parsed = campaignPatch.safeParse({
      targetStages: b.targetStages, minLifetimeValue: b.minLifetimeValue, minDaysInactive: b.minDaysInactive,
      maxDaysInactive: b.maxDaysInactive, targetCollections: b.targetCollections, sendDelayDays: b.sendDelayDays,
      holdoutPercent: b.holdoutPercent, endsAt: b.endsAt,
    });
    return parsed.success ? parsed.data : null;
  }, [form]);
  const debounced = useDebouncedValue(audienceFields, 400);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const body = toBody(form);
    try {
      if (!campaign) {
        const parsed = campaignCreate.safeParse(body);
        if (!parsed.success) return setErrors(issuesByField(parsed.error));
        const created = await create.mutateAsync(parsed.data);
        toast({ title: 'Draft saved', description: 'Check the audience, then activate it when you are ready.', variant: 'success' });
        router.push(`/dashboard/campaigns/winback/${created.id}`);
        return;
      }
      const patch: CampaignPatch = running
        ? { name: body.name, description: body.description, ...(campaign.status === 'completed' ? {} : { endsAt: body.endsAt }) }
        : body;
      const parsed = campaignPatch.safeParse(patch);
      if (!parsed.success) return setErrors(issuesByField(parsed.error));
      await update.mutateAsync({ id: campaign.id, patch: parsed.data });
      toast({ title: 'Campaign saved', description: parsed.data.name ?? campaign.name, variant: 'success' });
      router.push(`/dashboard/campaigns/winback/${campaign.id}`);
    } catch (err) {
      const field = err instanceof ApiError ? err.field : undefined;
      setErrors({ [field ?? 'form']: errorText(err, 'Could not save the campaign') });
    }
  }

  const title = campaign ? `Edit ${campaign.name}` : 'New win-back campaign';
  return (
    <PageContainer title={title}
      description={running
        ? 'This campaign has started: who it targets, its offer and its control group are what its results measure, so they stay as they are. The name, description and end date can change.'
        : 'A draft until you activate it. Nothing is sent before then.'}>
      <div className="grid gap-6 lg:grid-cols-3">
        <form id="campaign-form" onSubmit={submit} noValidate aria-label="Campaign" className="space-y-6 lg:col-span-2">
          <Card>
            <CardHeader title="Campaign" titleAs="h2" />
            <CardBody className="grid gap-4">
              <Field label="Name" htmlFor="wb-name" error={errors.name} required>
                <Input id="wb-name" value={form.name} maxLength={120} invalid={Boolean(errors.name)} onChange={(e) => set('name', e.target.value)} />
              </Field>
              <Field label="Description" htmlFor="wb-description" hint="Optional, for you" error={errors.description}>
                <Input id="wb-description" value={form.description} maxLength={2000} onChange={(e) => set('description', e.target.value)} />
              </Field>
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Who" titleAs="h2" description="Customers enter when they become at risk or churned; those who match when you activate are enrolled at once." />
            <CardBody className="grid gap-4 sm:grid-cols-2">
              <fieldset className="sm:col-span-2" disabled={locked('targetStages')}>
                <legend className="text-sm font-medium text-slate-800">Stages</legend>
                <div className="mt-2 flex flex-wrap gap-4">
                  {TARGET_STAGES.map((s) => (
                    <label key={s} className="flex items-center gap-2 text-sm">
                      <input type="checkbox" className="size-4" checked={form.targetStages.includes(s)} onChange={() => set('targetStages', toggle(form.targetStages, s))} />
                      {STAGE_LABELS[s]}
                    </label>
                  ))}
                </div>
                {errors.targetStages ? <p role="alert" className="mt-1 text-xs font-medium text-red-700">{errors.targetStages}</p> : null}
              </fieldset>
              <Field label="Lifetime value at least" htmlFor="wb-ltv" error={errors.minLifetimeValue}>
                <Input id="wb-ltv" inputMode="decimal" value={form.minLifetimeValue} disabled={locked('minLifetimeValue')} invalid={Boolean(errors.minLifetimeValue)} onChange={(e) => set('minLifetimeValue', e.target.value)} />
              </Field>
              <Field label="Days without an order, at least" htmlFor="wb-min-days" hint="The offer waits until then" error={errors.minDaysInactive}>
                <Input id="wb-min-days" inputMode="numeric" value={form.minDaysInactive} disabled={locked('minDaysInactive')} invalid={Boolean(errors.minDaysInactive)} onChange={(e) => set('minDaysInactive', e.target.value)} />
              </Field>
              <Field label="Days without an order, at most" htmlFor="wb-max-days" hint="Optional: leave out those gone longer" error={errors.maxDaysInactive}>
                <Input id="wb-max-days" inputMode="numeric" value={form.maxDaysInactive} disabled={locked('maxDaysInactive')} invalid={Boolean(errors.maxDaysInactive)} onChange={(e) => set('maxDaysInactive', e.target.value)} />
              </Field>
              <fieldset className="sm:col-span-2" disabled={locked('targetCollections')}>
                <legend className="text-sm font-medium text-slate-800">Favourite collection</legend>
                <p className="text-xs text-slate-600">None ticked: every customer, whatever they buy.</p>
                <div className="mt-2 flex flex-wrap gap-x-4 gap-y-2">
                  {collections.data?.collections.map((c) => (
                    <label key={c.slug} className="flex items-center gap-2 text-sm">
                      <input type="checkbox" className="size-4" checked={form.targetCollections.includes(c.slug)}
                        onChange={() => set('targetCollections', toggle(form.targetCollections, c.slug))} />
                      {c.name}
                    </label>
                  ))}
                </div>
                {errors.targetCollections ? <p role="alert" className="mt-1 text-xs font-medium text-red-700">{errors.targetCollections}</p> : null}
              </fieldset>
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Offer and timing" titleAs="h2" />
            <CardBody className="grid gap-4 sm:grid-cols-2">
              <Field label="Incentive" htmlFor="wb-incentive" hint="Codes are single-use, one per customer, issued when the offer goes">
                <Select id="wb-incentive" value={form.incentiveType} disabled={locked('incentiveType')} onChange={(e) => set('incentiveType', e.target.value as IncentiveType)}>
                  {INCENTIVE_TYPES.map((t) => <option key={t} value={t}>{INCENTIVE_LABELS[t]}</option>)}
                </Select>
              </Field>
              {HAS_VALUE.includes(form.incentiveType) ? (
                <Field label={form.incentiveType === 'percentage_discount' ? 'Percent off' : form.incentiveType === 'points' ? 'Points' : 'Amount off'}
                  htmlFor="wb-value" error={errors.incentiveValue} required>
                  <Input id="wb-value" inputMode="decimal" value={form.incentiveValue} disabled={locked('incentiveValue')} invalid={Boolean(errors.incentiveValue)} onChange={(e) => set('incentiveValue', e.target.value)} />
                </Field>
              ) : null}
              {HAS_CODE.includes(form.incentiveType) ? (
                <Field label="Code valid for (days)" htmlFor="wb-coupon-days" error={errors.couponDays}>
                  <Input id="wb-coupon-days" inputMode="numeric" value={form.couponDays} disabled={locked('couponDays')} invalid={Boolean(errors.couponDays)} onChange={(e) => set('couponDays', e.target.value)} />
                </Field>
              ) : null}
              <Field label="Send after (days)" htmlFor="wb-delay" hint="Counted from when the customer became at risk or churned" error={errors.sendDelayDays}>
                <Input id="wb-delay" inputMode="numeric" value={form.sendDelayDays} disabled={locked('sendDelayDays')} invalid={Boolean(errors.sendDelayDays)} onChange={(e) => set('sendDelayDays', e.target.value)} />
              </Field>
              <Field label="Ends on" htmlFor="wb-ends" hint="Optional. Offers not sent by then are not sent" error={errors.endsAt}>
                <Input id="wb-ends" type="date" value={form.endsOn} disabled={campaign?.status === 'completed'} invalid={Boolean(errors.endsAt)} onChange={(e) => set('endsOn', e.target.value)} />
              </Field>
            </CardBody>
          </Card>

          <Card>
            <CardHeader title="Measuring it" titleAs="h2" description="Held-back customers are never contacted. Comparing how many of them come back with how many of those sent an offer shows what the campaign itself did." />
            <CardBody className="grid gap-4 sm:grid-cols-2">
              <Field label="Hold back (%)" htmlFor="wb-holdout" hint="0 to 50; 10 is usual" error={errors.holdoutPercent}>
                <Input id="wb-holdout" inputMode="numeric" value={form.holdoutPercent} disabled={locked('holdoutPercent')} invalid={Boolean(errors.holdoutPercent)} onChange={(e) => set('holdoutPercent', e.target.value)} />
              </Field>
              <Field label="Count orders within (days)" htmlFor="wb-attribution" hint="After the offer's moment, for both groups" error={errors.attributionDays}>
                <Input id="wb-attribution" inputMode="numeric" value={form.attributionDays} disabled={locked('attributionDays')} invalid={Boolean(errors.attributionDays)} onChange={(e) => set('attributionDays', e.target.value)} />
              </Field>
            </CardBody>
          </Card>

          {errors.form ? <p role="alert" className="text-sm font-medium text-red-700">{errors.form}</p> : null}
          <div className="flex flex-wrap gap-3">
            <Button type="submit" loading={create.isPending || update.isPending}>{campaign ? 'Save' : 'Save draft'}</Button>
            <Button variant="secondary" onClick={() => router.push(campaign ? `/dashboard/campaigns/winback/${campaign.id}` : '/dashboard/campaigns/winback')}>Cancel</Button>
          </div>
        </form>
        {running ? null : <AudiencePreview campaignId={campaign?.id} fields={debounced} />}
      </div>
    </PageContainer>
  );
}

function AudiencePreview({ campaignId, fields }: { campaignId?: string; fields: CampaignPatch | null }) {
  const { data, isPending, isFetching, error } = useAudiencePreview(campaignId, fields ?? {}, fields !== null);
  return (
    <aside aria-label="Audience" className="lg:sticky lg:top-6 lg:self-start">
      <Card>
        <CardHeader title="Audience now" titleAs="h2" description="Who activating would enroll today. Customers who slip away later join as they do." />
        <CardBody aria-live="polite" aria-busy={isFetching || undefined}>
          {fields === null ? <p className="text-sm text-slate-600">Fix the highlighted fields to see the audience.</p>
            : isPending ? <LoadingBlock label="Counting the audience" rows={3} />
              : error ? <p role="alert" className="text-sm text-red-700">{error.message}</p>
                : (
                  <dl className={`grid grid-cols-2 gap-3 ${isFetching ? 'opacity-60' : ''}`}>
                    <div className="col-span-2 flex items-center gap-2">
                      <Users className="size-5 text-brand-700" aria-hidden="true" />
                      <dt className="sr-only">Customers</dt>
                      <dd className="text-2xl font-semibold tabular-nums" data-testid="audience-eligible">{formatNumber(data.eligible)}</dd>
                      <span className="text-sm text-slate-600">customers match</span>
                    </div>
                    <div><dt className="text-xs text-slate-600">Offer sent at once</dt><dd className="font-medium tabular-nums">{formatNumber(data.dueNow)}</dd></div>
                    <div><dt className="text-xs text-slate-600">Offer sent later</dt><dd className="font-medium tabular-nums">{formatNumber(data.later)}</dd></div>
                    <div className="col-span-2"><dt className="text-xs text-slate-600">Held back, never contacted</dt><dd className="font-medium tabular-nums">{formatNumber(data.control)}</dd></div>
                  </dl>
                )}
        </CardBody>
      </Card>
    </aside>
  );
}

import 'server-only';
import postgres from 'postgres';
import { AppError } from '@/lib/errors';
import { asServer, fieldsOf, jsonb, type Tx } from '@/lib/db';
import {
  campaignSchema,
  checkCampaignTerms,
  RUNNING_EDITABLE,
  type Audience,
  type Campaign,
  type CampaignCreate,
  type CampaignList,
  type CampaignPatch,
  type Figures,
  type MessageList,
  type PreviewRequest,
  type Recipient,
  type RecipientListQuery,
  type RecipientPage,
  type Results,
} from '@/lib/winback/schemas';

const CAMPAIGN = fieldsOf(campaignSchema);
const FIGURES = (tx: Tx) => tx`
  f.targeted, f.control, f.sent, f.opened, f.clicked, f.recovered, f.revenue, f.control_recovered, f.control_revenue`;

type CampaignRow = Omit<Campaign, 'figures'> & Figures;

function withFigures(row: CampaignRow): Campaign {
  const { targeted, control, sent, opened, clicked, recovered, revenue, controlRecovered, controlRevenue, ...campaign } = row;
  return { ...campaign, figures: { targeted, control, sent, opened, clicked, recovered, revenue, controlRecovered, controlRevenue } };
}

/** The merchant's campaigns, newest first, each with its figures up to now (one query). */
export async function listCampaigns(tx: Tx, userId: string): Promise<CampaignList> {
  const rows = await asServer(tx, () => tx<CampaignRow[]>`
    select ${tx(CAMPAIGN)}, ${FIGURES(tx)}
      from public.winback_campaigns w
      join private.winback_campaign_figures(${userId}) f on f.campaign_id = w.id
     where w.user_id = ${userId}
     order by w.created_at desc, w.id
     limit 200`);
  return { campaigns: rows.map(withFigures) };
}

export async function getCampaign(tx: Tx, userId: string, id: string): Promise<Campaign> {
  const [row] = await asServer(tx, () => tx<CampaignRow[]>`
    select ${tx(CAMPAIGN)}, ${FIGURES(tx)}
      from public.winback_campaigns w
      join private.winback_campaign_figures(${userId}, ${[id]}) f on f.campaign_id = w.id
     where w.user_id = ${userId} and w.id = ${id}`);
  if (!row) throw new AppError('not_found', 'Campaign not found');
  return withFigures(row);
}

/** Collections are the merchant's own data: a campaign may only target slugs the store has. */
async function assertCollections(tx: Tx, userId: string, slugs: string[] | undefined): Promise<void> {
  if (!slugs?.length) return;
  const known = await tx<{ slug: string }[]>`select slug from public.collections where user_id = ${userId} and slug = any (${slugs})`;
  const missing = slugs.filter((s) => !known.some((k) => k.slug === s));
  if (missing.length) throw new AppError('bad_request', `Not one of your collections: ${missing.join(', ')}`, { field: 'targetCollections' });
}

const row = (input: CampaignPatch) => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));

export async function createCampaign(tx: Tx, userId: string, input: CampaignCreate): Promise<Campaign> {
  await assertCollections(tx, userId, input.targetCollections);
  if (input.endsAt && Date.parse(input.endsAt) <= Date.now()) {
    throw new AppError('bad_request', 'The end date has passed', { field: 'endsAt' });
  }
  const [created] = await asServer(tx, () => tx<{ id: string }[]>`
    insert into public.winback_campaigns ${tx({ ...row(input), userId })} returning id`);
  await tx`select public.log_activity(${userId}, 'winback.campaign_created', 'winback_campaign', ${created?.id ?? null})`;
  return getCampaign(tx, userId, created?.id ?? '');
}

/**
 * A draft changes freely. Once a campaign has started, its audience, groups and offer are the
 * experiment and stay as they were; only its name, description and end date change (and a
 * completed campaign's end is history).
 */
/** The campaign's row lock (as activation takes it), so a check of its status holds until the change commits. */
const lockCampaign = (tx: Tx, userId: string, id: string) =>
  asServer(tx, () => tx`select 1 from private.winback_campaign_for_update(${userId}, ${id})`);

export async function updateCampaign(tx: Tx, userId: string, id: string, patch: CampaignPatch): Promise<Campaign> {
  await lockCampaign(tx, userId, id);
  const current = await getCampaign(tx, userId, id);
  const changes = row(patch);
  if (current.status !== 'draft') {
    const allowed: readonly string[] = current.status === 'completed' ? ['name', 'description'] : RUNNING_EDITABLE;
    const locked = Object.keys(changes).filter((k) => !allowed.includes(k));
    if (locked.length) {
      throw new AppError('conflict', `A ${current.status} campaign keeps its ${locked.join(', ')}; only ${allowed.join(', ')} can change`,
        { field: locked[0] });
    }
  }
  const problem = checkCampaignTerms({ ...current, ...changes });
  if (problem) throw new AppError('bad_request', problem.message, { field: problem.field });
  await assertCollections(tx, userId, patch.targetCollections);
  if (patch.endsAt && Date.parse(patch.endsAt) <= Date.now()) {
    throw new AppError('bad_request', 'The end date has passed', { field: 'endsAt' });
  }
  if (Object.keys(changes).length > 0) {
    await asServer(tx, () => tx`update public.winback_campaigns set ${tx(changes)} where user_id = ${userId} and id = ${id}`);
  }
  return getCampaign(tx, userId, id);
}

/** Only a draft is deleted; a campaign that has run keeps its recipients and results (complete it instead). */
export async function deleteCampaign(tx: Tx, userId: string, id: string): Promise<{ deleted: true }> {
  await lockCampaign(tx, userId, id);
  const current = await getCampaign(tx, userId, id);
  if (current.status !== 'draft') throw new AppError('conflict', 'Only a draft can be deleted; complete the campaign instead');
  await asServer(tx, () => tx`delete from public.winback_campaigns where user_id = ${userId} and id = ${id}`);
  await tx`select public.log_activity(${userId}, 'winback.campaign_deleted', 'winback_campaign', ${id})`;
  return { deleted: true };
}

export type Transition = 'activate' | 'pause' | 'resume' | 'complete';

/** A lifecycle step, in SQL (ownership and status checked there, under the campaign's lock). */
export async function transition(tx: Tx, userId: string, id: string, step: Transition): Promise<{ campaign: Campaign; result: unknown }> {
  const fn = { activate: 'winback_activate', pause: 'winback_pause', resume: 'winback_resume', complete: 'winback_complete' }[step];
  const [r] = await asServer(tx, () => tx<{ r: unknown }[]>`select ${tx.unsafe(`private.${fn}`)}(${userId}, ${id}) as r`);
  return { campaign: await getCampaign(tx, userId, id), result: r?.r };
}

export async function previewCampaign(tx: Tx, userId: string, id: string): Promise<Audience> {
  await getCampaign(tx, userId, id);
  const [r] = await asServer(tx, () => tx<{ r: Audience }[]>`select private.winback_preview(${userId}, ${id}) as r`);
  return r?.r ?? { eligible: 0, treatment: 0, control: 0, dueNow: 0, later: 0 };
}

/** The live count of the form: the fields as typed, on the stored campaign being edited if any. */
export async function previewDraft(tx: Tx, userId: string, req: PreviewRequest): Promise<Audience> {
  if (req.campaignId) await getCampaign(tx, userId, req.campaignId);
  await assertCollections(tx, userId, req.fields.targetCollections);
  const fields = Object.fromEntries(Object.entries(row(req.fields)).map(([k, v]) => [postgres.fromCamel(k), v]));
  const [r] = await asServer(tx, () => tx<{ r: Audience }[]>`
    select private.winback_preview_draft(${userId}, ${jsonb(tx, fields)}, ${req.campaignId ?? null}) as r`);
  return r?.r ?? { eligible: 0, treatment: 0, control: 0, dueNow: 0, later: 0 };
}

/** One page of a campaign's recipients (by id, one status or all) with the counts by status. */
export async function listRecipients(tx: Tx, userId: string, id: string, q: RecipientListQuery): Promise<RecipientPage> {
  await getCampaign(tx, userId, id);
  const rows = await tx<Recipient[]>`
    select r.id, r.customer_id, c.email, c.first_name, c.last_name, r.arm, r.status, r.eligible_at, r.send_at, r.sent_at,
           r.opened_at, r.clicked_at, r.recovered_at, r.recovery_value, r.coupon_code, r.points_awarded, r.ended_reason,
           m.status as message_status, m.reason as message_reason
      from public.winback_recipients r
      join public.customers c on c.user_id = r.user_id and c.id = r.customer_id
      left join public.klaviyo_messages m on m.user_id = r.user_id and m.id = r.message_id
     where r.user_id = ${userId} and r.campaign_id = ${id}
       ${q.status ? tx`and r.status = ${q.status}` : tx``}
       ${q.after ? tx`and r.id > ${q.after}` : tx``}
     order by r.id
     limit ${q.limit + 1}`;
  // Kept by status as recipients change (the folded counts plus the deltas not folded yet), not
  // counted here: a count would pass over every recipient of the campaign on every page.
  const counts = await tx<{ status: string; n: number }[]>`
    select status, sum(recipients)::int as n
      from (select status, recipients from public.winback_status_counts where user_id = ${userId} and campaign_id = ${id}
            union all
            select status, recipients from public.winback_status_deltas where user_id = ${userId} and campaign_id = ${id}) c
     group by status having sum(recipients) > 0`;
  const page = rows.slice(0, q.limit);
  return {
    recipients: page,
    next: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null,
    counts: Object.fromEntries(counts.map((c) => [c.status, c.n])),
  };
}

/** Figures, the treatment-control comparison (in SQL) and recoveries by day in the store's time zone. */
export async function campaignResults(tx: Tx, userId: string, id: string): Promise<Results> {
  await getCampaign(tx, userId, id);
  const [r] = await asServer(tx, () => tx<{ r: Omit<Results, 'daily'> }[]>`select private.winback_results(${userId}, ${id}) as r`);
  const daily = await asServer(tx, () => tx<Results['daily']>`
    select to_char((recovered_at at time zone private.merchant_time_zone(${userId}))::date, 'YYYY-MM-DD') as day,
           (count(*) filter (where arm = 'treatment'))::int as treatment, (count(*) filter (where arm = 'control'))::int as control,
           coalesce(sum(recovery_value) filter (where arm = 'treatment'), 0)::float8 as revenue
      from public.winback_recipients
     where user_id = ${userId} and campaign_id = ${id} and recovered_at is not null
     group by 1 order by 1`);
  if (!r) throw new AppError('not_found', 'Campaign not found');
  return { ...r.r, daily };
}

/** The campaign's messages that need the merchant: failed (the dead-letter list) and held, newest first. */
export async function listMessages(tx: Tx, userId: string, id: string): Promise<MessageList> {
  await getCampaign(tx, userId, id);
  const messages = await tx<MessageList['messages']>`
    select m.id, r.id as recipient_id, c.email, m.status, m.hold, m.reason, m.attempts, m.last_attempt_at, m.created_at
      from public.winback_recipients r
      join public.klaviyo_messages m on m.user_id = r.user_id and m.id = r.message_id
      join public.customers c on c.user_id = r.user_id and c.id = r.customer_id
     where r.user_id = ${userId} and r.campaign_id = ${id} and m.status in ('failed', 'held')
     order by m.status, m.created_at desc, m.id
     limit 100`;
  const [counts] = await tx<{ failed: number; held: number }[]>`
    select (count(*) filter (where m.status = 'failed'))::int as failed, (count(*) filter (where m.status = 'held'))::int as held
      from public.winback_recipients r join public.klaviyo_messages m on m.user_id = r.user_id and m.id = r.message_id
     where r.user_id = ${userId} and r.campaign_id = ${id} and m.status in ('failed', 'held')`;
  return { messages, failed: counts?.failed ?? 0, held: counts?.held ?? 0 };
}

/** Send the campaign's failed messages again (those given, or all of them); returns how many go. */
export async function retryMessages(tx: Tx, userId: string, id: string, ids?: string[]): Promise<{ retried: number }> {
  const campaign = await getCampaign(tx, userId, id);
  if (campaign.status === 'completed') throw new AppError('conflict', 'The campaign has ended; its messages are not sent again');
  const [r] = await asServer(tx, () => tx<{ n: number }[]>`
    select private.klaviyo_retry(${userId}, array(
      select r.message_id from public.winback_recipients r
       where r.user_id = ${userId} and r.campaign_id = ${id} and r.message_id is not null
         ${ids ? tx`and r.message_id = any (${ids})` : tx``})) as n`);
  if (r?.n) await tx`select public.log_activity(${userId}, 'winback.messages_retried', 'winback_campaign', ${id}, ${jsonb(tx, { retried: r.n })})`;
  return { retried: r?.n ?? 0 };
}

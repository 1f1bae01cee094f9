import { z } from 'zod';
import { decimal, text, wholeNumber } from '@/lib/fields';

/**
 * Win-back campaigns: one shape for each entity, shared by the API, the service and the forms.
 */
export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'completed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const TARGET_STAGES = ['at_risk', 'churned'] as const;
export const INCENTIVE_TYPES = ['none', 'percentage_discount', 'fixed_discount', 'free_shipping', 'points'] as const;
export type IncentiveType = (typeof INCENTIVE_TYPES)[number];
export const RECIPIENT_STATUSES = [
  'pending', 'control', 'sent', 'opened', 'clicked', 'recovered', 'cancelled', 'unsubscribed', 'expired',
] as const;
export const MESSAGE_STATUSES = ['pending', 'held', 'sent', 'failed', 'cancelled'] as const;

const iso = z.iso.datetime({ offset: true });

/** The counts behind a campaign's funnel and headline results (folded totals plus what is not folded yet). */
export const figuresSchema = z.object({
  targeted: z.number().int(),
  control: z.number().int(),
  sent: z.number().int(),
  opened: z.number().int(),
  clicked: z.number().int(),
  recovered: z.number().int(),
  revenue: z.number(),
  controlRecovered: z.number().int(),
  controlRevenue: z.number(),
});
export type Figures = z.infer<typeof figuresSchema>;

export const campaignSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  targetStages: z.array(z.enum(TARGET_STAGES)),
  minDaysInactive: z.number().int(),
  maxDaysInactive: z.number().int().nullable(),
  minLifetimeValue: z.number(),
  targetCollections: z.array(z.string()),
  incentiveType: z.enum(INCENTIVE_TYPES),
  incentiveValue: z.number().nullable(),
  couponDays: z.number().int(),
  sendDelayDays: z.number().int(),
  holdoutPercent: z.number().int(),
  attributionDays: z.number().int(),
  status: z.enum(CAMPAIGN_STATUSES),
  /** The audience is still being enrolled after activation, a batch at a time. */
  enrolling: z.boolean(),
  startsAt: iso.nullable(),
  endsAt: iso.nullable(),
  activatedAt: iso.nullable(),
  completedAt: iso.nullable(),
  createdAt: iso,
  updatedAt: iso,
});
export const campaignWithFiguresSchema = campaignSchema.extend({ figures: figuresSchema });
export type Campaign = z.infer<typeof campaignWithFiguresSchema>;
export const campaignListSchema = z.object({ campaigns: z.array(campaignWithFiguresSchema) });
export type CampaignList = z.infer<typeof campaignListSchema>;

/** The fields a merchant sets; the rules the database also holds, with messages for the form. */
const campaignFields = {
  name: text({ max: 120, required: 'Give the campaign a name' }),
  description: text({ max: 2000 }).nullable(),
  targetStages: z.array(z.enum(TARGET_STAGES)).min(1, 'Pick at least one stage').max(2)
    .refine((a) => new Set(a).size === a.length, 'Each stage once'),
  minDaysInactive: wholeNumber(0, 3650),
  maxDaysInactive: wholeNumber(1, 3650).nullable(),
  minLifetimeValue: decimal(0, 10_000_000, { cents: true }),
  targetCollections: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'Not a collection')).max(100),
  incentiveType: z.enum(INCENTIVE_TYPES),
  incentiveValue: decimal(0, 1_000_000, { above: true, cents: true }).nullable(),
  couponDays: wholeNumber(1, 365),
  sendDelayDays: wholeNumber(0, 365),
  holdoutPercent: wholeNumber(0, 50),
  attributionDays: wholeNumber(1, 365),
  startsAt: iso.nullable(),
  endsAt: iso.nullable(),
};

type Terms = Partial<{ [K in keyof typeof campaignFields]: z.output<(typeof campaignFields)[K]> }>;

/** Rules across fields, for a whole campaign (the stored one merged with a change). */
export function checkCampaignTerms(t: Terms): { field: string; message: string } | null {
  const value = t.incentiveValue ?? null;
  switch (t.incentiveType) {
    case 'percentage_discount':
      if (value === null || value > 100) return { field: 'incentiveValue', message: 'A percentage from more than 0 to 100' };
      break;
    case 'fixed_discount':
      if (value === null || value > 100_000) return { field: 'incentiveValue', message: 'An amount from more than 0 to 100,000' };
      break;
    case 'points':
      if (value === null || !Number.isInteger(value)) return { field: 'incentiveValue', message: 'A whole number of points' };
      break;
    default:
      if (value !== null) return { field: 'incentiveValue', message: 'This incentive has no value' };
  }
  if (t.maxDaysInactive != null && t.minDaysInactive != null && t.maxDaysInactive < t.minDaysInactive) {
    return { field: 'maxDaysInactive', message: 'At least the minimum' };
  }
  if (t.startsAt && t.endsAt && Date.parse(t.endsAt) <= Date.parse(t.startsAt)) return { field: 'endsAt', message: 'After the start' };
  return null;
}

const withTerms = <T extends Terms>(s: z.ZodType<T>) =>
  s.superRefine((t, ctx) => {
    const problem = checkCampaignTerms(t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.field] });
  });

/** POST /api/winback/campaigns: a draft. Only the name is required. */
export const campaignCreate = withTerms(
  z
    .object({
      ...campaignFields,
      description: campaignFields.description.optional(),
      targetStages: campaignFields.targetStages.default(['at_risk', 'churned']),
      minDaysInactive: campaignFields.minDaysInactive.default(0),
      maxDaysInactive: campaignFields.maxDaysInactive.optional(),
      minLifetimeValue: campaignFields.minLifetimeValue.default(0),
      targetCollections: campaignFields.targetCollections.default([]),
      incentiveType: campaignFields.incentiveType.default('none'),
      incentiveValue: campaignFields.incentiveValue.optional(),
      couponDays: campaignFields.couponDays.default(30),
      sendDelayDays: campaignFields.sendDelayDays.default(0),
      holdoutPercent: campaignFields.holdoutPercent.default(10),
      attributionDays: campaignFields.attributionDays.default(30),
      startsAt: campaignFields.startsAt.optional(),
      endsAt: campaignFields.endsAt.optional(),
    })
    .strict(),
);
export type CampaignCreate = z.infer<typeof campaignCreate>;

/** PATCH /api/winback/campaigns/:id: fields left out stay; cross-field rules are checked on the merged campaign. */
export const campaignPatch = z.object(campaignFields).partial().strict();
export type CampaignPatch = z.infer<typeof campaignPatch>;

/** What may change once a campaign has started: its audience, groups and offer are the experiment. */
export const RUNNING_EDITABLE = ['name', 'description', 'endsAt'] as const;

/** POST /api/winback/preview: the form's fields as they are, for its live audience count. */
export const previewRequest = z
  .object({ campaignId: z.uuid().optional(), fields: campaignPatch })
  .strict();
export type PreviewRequest = z.infer<typeof previewRequest>;

export const audienceSchema = z.object({
  eligible: z.number().int(),
  treatment: z.number().int(),
  control: z.number().int(),
  dueNow: z.number().int(),
  later: z.number().int(),
});
export type Audience = z.infer<typeof audienceSchema>;

// ---- Recipients -------------------------------------------------------------------------

export const recipientSchema = z.object({
  id: z.uuid(),
  customerId: z.uuid(),
  email: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  arm: z.enum(['treatment', 'control']),
  status: z.enum(RECIPIENT_STATUSES),
  eligibleAt: iso,
  sendAt: iso,
  sentAt: iso.nullable(),
  openedAt: iso.nullable(),
  clickedAt: iso.nullable(),
  recoveredAt: iso.nullable(),
  recoveryValue: z.number(),
  couponCode: z.string().nullable(),
  pointsAwarded: z.number().int(),
  endedReason: z.string().nullable(),
  messageStatus: z.enum(MESSAGE_STATUSES).nullable(),
  messageReason: z.string().nullable(),
});
export type Recipient = z.infer<typeof recipientSchema>;

export const recipientListQuery = z
  .object({
    status: z.enum(RECIPIENT_STATUSES).optional(),
    /** The last id of the previous page. */
    after: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();
export type RecipientListQuery = z.infer<typeof recipientListQuery>;
export const recipientPageSchema = z.object({
  recipients: z.array(recipientSchema),
  /** Pass as `after` for the next page; null on the last. */
  next: z.uuid().nullable(),
  /** Recipients by status, for the filter's counts. */
  counts: z.record(z.string(), z.number().int()),
});
export type RecipientPage = z.infer<typeof recipientPageSchema>;

// ---- Results ----------------------------------------------------------------------------

const groupSchema = z.object({ size: z.number().int(), recovered: z.number().int(), rate: z.number().nullable() });
export const resultsSchema = figuresSchema.extend({
  comparison: z.object({
    treatment: groupSchema,
    control: groupSchema,
    /** Compared customers still inside their window: their recovery can still come. */
    open: z.number().int(),
    minimumGroup: z.number().int(),
    enoughData: z.boolean(),
    /** Treatment recovery rate minus control recovery rate (a share, 0.05 = 5 points). */
    lift: z.number().nullable(),
    lower: z.number().nullable(),
    upper: z.number().nullable(),
  }),
  /** Recoveries by day of the store's time zone, in each group. */
  daily: z.array(z.object({ day: z.string(), treatment: z.number().int(), control: z.number().int(), revenue: z.number() })),
});
export type Results = z.infer<typeof resultsSchema>;

// ---- Messages (the dead-letter list) ------------------------------------------------------

export const messageSchema = z.object({
  id: z.uuid(),
  recipientId: z.uuid(),
  email: z.string(),
  status: z.enum(MESSAGE_STATUSES),
  hold: z.string().nullable(),
  reason: z.string().nullable(),
  attempts: z.number().int(),
  lastAttemptAt: iso.nullable(),
  createdAt: iso,
});
export type Message = z.infer<typeof messageSchema>;
export const messageListSchema = z.object({ messages: z.array(messageSchema), failed: z.number().int(), held: z.number().int() });
export type MessageList = z.infer<typeof messageListSchema>;

export const retryRequest = z
  .object({ ids: z.array(z.uuid()).min(1).max(500).optional() })
  .strict();
export type RetryRequest = z.infer<typeof retryRequest>;

import { z } from 'zod';
import { emailSchema } from '@/lib/auth/schemas';
import { decimal, keysetPageFields, oneStart, pageFields, pageRequestFields, text, wholeNumber } from '@/lib/fields';

/** What a tier's threshold measures. */
export const TIER_BASES = ['points', 'spend', 'orders'] as const;
export const REWARD_TYPES = ['percentage_discount', 'fixed_discount', 'free_shipping', 'free_product'] as const;
export type RewardType = (typeof REWARD_TYPES)[number];
export const TRANSACTION_TYPES = [
  'earn_purchase', 'earn_referral', 'earn_review', 'earn_birthday', 'earn_signup', 'earn_bonus', 'clawback', 'redeem',
  'redeem_return', 'expire', 'adjustment',
] as const;
export const REDEMPTION_STATUSES = ['issued', 'used', 'expired', 'cancelled'] as const;

const iso = z.iso.datetime({ offset: true });
const points = (max = 10_000_000) => wholeNumber(1, max);

// ---- Program ----------------------------------------------------------------------------

/** The program's settings as stored (one row per merchant). */
export const programSchema = z.object({
  enabled: z.boolean(),
  /** Points per unit of the store's currency spent. */
  pointsPerUnit: z.number(),
  /** What one point is worth in money: the liability of points not yet spent. */
  pointValue: z.number(),
  /** Earned points expire this many months after they were earned; null: never. */
  expiryMonths: z.number().int().nullable(),
  tierBasis: z.enum(TIER_BASES),
  signupPoints: z.number().int().nullable(),
  birthdayPoints: z.number().int().nullable(),
  reviewPoints: z.number().int().nullable(),
  /** The referrer earns this share of the friend's first order, in points. */
  referralPercent: z.number(),
  friendRewardType: z.enum(['percentage', 'fixed_amount']),
  friendRewardValue: z.number(),
  friendMinimumPurchase: z.number().nullable(),
});
export type Program = z.infer<typeof programSchema>;

/** PATCH /api/loyalty/program: each field left out stays; null switches a way to earn off. */
export const programPatch = z
  .object({
    enabled: z.boolean(),
    pointsPerUnit: decimal(0, 1000, { above: true, cents: true }),
    pointValue: decimal(0, 1000),
    expiryMonths: wholeNumber(1, 120).nullable(),
    tierBasis: z.enum(TIER_BASES),
    signupPoints: points(1_000_000).nullable(),
    birthdayPoints: points(1_000_000).nullable(),
    reviewPoints: points(1_000_000).nullable(),
    referralPercent: decimal(0, 100, { cents: true }),
    friendRewardType: z.enum(['percentage', 'fixed_amount']),
    friendRewardValue: decimal(0, 100_000, { above: true, cents: true }),
    friendMinimumPurchase: decimal(0, 10_000_000, { cents: true }).nullable(),
  })
  .partial()
  .strict()
  .refine((p) => p.friendRewardType !== 'percentage' || p.friendRewardValue === undefined || p.friendRewardValue <= 100, {
    message: 'A percentage cannot be more than 100', path: ['friendRewardValue'],
  });
export type ProgramPatch = z.infer<typeof programPatch>;

// ---- Tiers ------------------------------------------------------------------------------

export const tierSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  tierOrder: z.number().int(),
  /** Reached when the program's basis (points earned, spend or orders) is at least this. */
  threshold: z.number(),
  pointsMultiplier: z.number(),
  perks: z.array(z.string()),
  badgeColor: z.string().nullable(),
});
export type Tier = z.infer<typeof tierSchema>;

export const tierWithMembersSchema = tierSchema.extend({ members: z.number().int() });
export const tierListSchema = z.object({ tiers: z.array(tierWithMembersSchema) });
export type TierList = z.infer<typeof tierListSchema>;

const tierFields = {
  name: text({ max: 60, required: 'A tier needs a name' }),
  description: text({ max: 500 }).nullable(),
  tierOrder: wholeNumber(0, 100),
  threshold: decimal(0, 1_000_000_000, { cents: true }),
  pointsMultiplier: decimal(0.1, 10, { cents: true }),
  perks: z.array(text({ max: 120, required: 'A perk cannot be empty' })).max(10, 'At most 10 perks'),
  badgeColor: z.string().regex(/^#[0-9a-f]{6}$/, 'Use a colour like #ca8a04').nullable(),
};
export const tierCreate = z.object({
  ...tierFields,
  description: tierFields.description.optional(),
  perks: tierFields.perks.optional(),
  badgeColor: tierFields.badgeColor.optional(),
  pointsMultiplier: tierFields.pointsMultiplier.optional(),
}).strict();
export type TierCreate = z.infer<typeof tierCreate>;
export const tierPatch = z.object(tierFields).partial().strict();
export type TierPatch = z.infer<typeof tierPatch>;

// ---- Rewards ----------------------------------------------------------------------------

export const rewardSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  pointsCost: z.number().int(),
  rewardType: z.enum(REWARD_TYPES),
  /** Percent for a percentage discount, an amount for a fixed one, the product's price for a free product; null for free shipping. */
  rewardValue: z.number().nullable(),
  rewardProductId: z.string().nullable(),
  minimumPurchase: z.number().nullable(),
  /** Open to this tier and every tier above it; null: every member. */
  minTierId: z.uuid().nullable(),
  minOrders: z.number().int().nullable(),
  redemptionLimit: z.number().int().nullable(),
  totalAvailable: z.number().int().nullable(),
  totalRedeemed: z.number().int(),
  codeValidDays: z.number().int(),
  isActive: z.boolean(),
  startsAt: iso.nullable(),
  endsAt: iso.nullable(),
  createdAt: iso,
});
export type Reward = z.infer<typeof rewardSchema>;
export const rewardListSchema = z.object({ rewards: z.array(rewardSchema) });
export type RewardList = z.infer<typeof rewardListSchema>;

const rewardFields = {
  name: text({ max: 80, required: 'A reward needs a name' }),
  description: text({ max: 500 }).nullable(),
  pointsCost: points(),
  rewardType: z.enum(REWARD_TYPES),
  rewardValue: decimal(0, 10_000_000, { above: true, cents: true }).nullable(),
  rewardProductId: text({ max: 64, required: 'Give the product id' }).nullable(),
  minimumPurchase: decimal(0, 10_000_000, { cents: true }).nullable(),
  minTierId: z.uuid('Not a tier id').nullable(),
  minOrders: wholeNumber(1, 100_000).nullable(),
  redemptionLimit: wholeNumber(1, 1_000_000).nullable(),
  totalAvailable: wholeNumber(1, 100_000_000).nullable(),
  codeValidDays: wholeNumber(1, 3650),
  isActive: z.boolean(),
  startsAt: iso.nullable(),
  endsAt: iso.nullable(),
};

/** A reward's value must fit its type; dates in order. Returns the first problem, or null. */
export function checkRewardTerms(r: Partial<{ rewardType: RewardType; rewardValue: number | null; rewardProductId: string | null; startsAt: string | null; endsAt: string | null }>): { field: string; message: string } | null {
  if (r.rewardType === 'percentage_discount' && (r.rewardValue == null || r.rewardValue > 100)) {
    return { field: 'rewardValue', message: 'A percentage discount needs a value up to 100' };
  }
  if (r.rewardType === 'fixed_discount' && r.rewardValue == null) return { field: 'rewardValue', message: 'A fixed discount needs an amount' };
  if (r.rewardType === 'free_product' && !r.rewardProductId) return { field: 'rewardProductId', message: 'A free product needs its product id' };
  if (r.rewardType === 'free_product' && r.rewardValue == null) return { field: 'rewardValue', message: 'Give the product’s price: the code takes up to that much off' };
  if (r.startsAt && r.endsAt && Date.parse(r.endsAt) <= Date.parse(r.startsAt)) return { field: 'endsAt', message: 'The end must be after the start' };
  return null;
}

const refineReward = (r: Parameters<typeof checkRewardTerms>[0], ctx: z.RefinementCtx) => {
  const problem = checkRewardTerms(r);
  if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.field] });
};

export const rewardCreate = z
  .object({
    ...rewardFields,
    description: rewardFields.description.optional(),
    rewardValue: rewardFields.rewardValue.optional(),
    rewardProductId: rewardFields.rewardProductId.optional(),
    minimumPurchase: rewardFields.minimumPurchase.optional(),
    minTierId: rewardFields.minTierId.optional(),
    minOrders: rewardFields.minOrders.optional(),
    redemptionLimit: rewardFields.redemptionLimit.optional(),
    totalAvailable: rewardFields.totalAvailable.optional(),
    codeValidDays: rewardFields.codeValidDays.optional(),
    isActive: rewardFields.isActive.optional(),
    startsAt: rewardFields.startsAt.optional(),
    endsAt: rewardFields.endsAt.optional(),
  })
  .strict()
  .superRefine(refineReward);
export type RewardCreate = z.infer<typeof rewardCreate>;
/** Cross-field rules are checked against the stored reward merged with the patch (service). */
export const rewardPatch = z.object(rewardFields).partial().strict();
export type RewardPatch = z.infer<typeof rewardPatch>;

// ---- Members and the ledger -------------------------------------------------------------

export const memberListQuery = z.object({
  tierId: z.uuid('Not a tier id').optional(),
  search: text({ max: 100 }).optional(),
  sort: z.enum(['balance', 'earned', 'joined']).default('balance'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The page after or before a member (the answer's `next` and `prev`), or the last page. */
  ...pageRequestFields,
}).superRefine(oneStart);
export type MemberListQuery = z.infer<typeof memberListQuery>;

export const memberSchema = z.object({
  customerId: z.uuid(),
  email: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  pointsBalance: z.number().int(),
  /** Lifetime points earned, less what refunds and cancellations took back. */
  pointsEarned: z.number().int(),
  pointsRedeemed: z.number().int(),
  pointsExpired: z.number().int(),
  tierId: z.uuid().nullable(),
  tierName: z.string().nullable(),
  joinedAt: iso,
});
export type Member = z.infer<typeof memberSchema>;
export const memberListSchema = z.object({ members: z.array(memberSchema), ...keysetPageFields });
export type MemberList = z.infer<typeof memberListSchema>;

export const ledgerRowSchema = z.object({
  seq: z.number().int(),
  type: z.enum(TRANSACTION_TYPES),
  points: z.number().int(),
  balanceBefore: z.number().int(),
  balanceAfter: z.number().int(),
  /** Points a clawback could not take back (the balance was too low). */
  shortfall: z.number().int(),
  description: z.string().nullable(),
  expiresAt: iso.nullable(),
  createdAt: iso,
});
export type LedgerRow = z.infer<typeof ledgerRowSchema>;

export const redemptionSchema = z.object({
  id: z.uuid(),
  rewardId: z.uuid(),
  rewardName: z.string(),
  pointsSpent: z.number().int(),
  code: z.string(),
  status: z.enum(REDEMPTION_STATUSES),
  expiresAt: iso.nullable(),
  usedAt: iso.nullable(),
  createdAt: iso,
});
export type Redemption = z.infer<typeof redemptionSchema>;

export const memberDetailSchema = memberSchema.extend({
  nextTierId: z.uuid().nullable(),
  nextTierName: z.string().nullable(),
  /** How much of the program's basis is left to the next tier (points, money or orders). */
  toNextTier: z.number().nullable(),
  tierBasis: z.enum(TIER_BASES),
  referralCode: z.string(),
  birthday: z.iso.date().nullable(),
  ledger: z.object({ rows: z.array(ledgerRowSchema), ...pageFields }),
  redemptions: z.array(redemptionSchema),
});
export type MemberDetail = z.infer<typeof memberDetailSchema>;

export const ledgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

export const redeemBody = z.object({ rewardId: z.uuid('Not a reward id'), requestId: z.string().trim().regex(/^[A-Za-z0-9_-]{8,100}$/, 'Not a request id').optional() }).strict();
export const redemptionResultSchema = z.object({
  redemptionId: z.uuid(),
  code: z.string(),
  couponId: z.uuid(),
  pointsSpent: z.number().int(),
  balance: z.number().int(),
  expiresAt: iso,
});
export type RedemptionResult = z.infer<typeof redemptionResultSchema>;

/** A manual change: an adjustment (either way, e.g. a correction) or a bonus (earned, counts towards tiers). */
export const adjustBody = z
  .object({
    kind: z.enum(['adjustment', 'bonus']).default('adjustment'),
    points: wholeNumber(-10_000_000, 10_000_000).refine((n) => n !== 0, 'Enter a number of points other than 0'),
    reason: text({ max: 500, required: 'Say why' }),
  })
  .strict()
  .refine((b) => b.kind !== 'bonus' || b.points > 0, { message: 'A bonus adds points', path: ['points'] });
export type AdjustBody = z.infer<typeof adjustBody>;

// ---- Dashboard and referrals --------------------------------------------------------------

const pointsFigures = {
  /** Points earned by members, every way (purchases, referrals, reviews, birthdays, signups, bonuses). */
  issued: z.number().int(),
  /** Points spent on rewards. */
  redeemed: z.number().int(),
  /** Points that reached their expiry date unspent. */
  expired: z.number().int(),
  /** Points taken back because their order was refunded or cancelled. */
  clawedBack: z.number().int(),
};

export const loyaltyDashboardSchema = z.object({
  timeZone: z.string(),
  members: z.number().int(),
  totals: z.object({
    ...pointsFigures,
    /** Manual adjustments, either way. */
    adjusted: z.number().int(),
    /** Points members hold now: issued - redeemed - expired - clawed back + adjusted. */
    outstanding: z.number().int(),
    /** Outstanding points at the program's point value: what the merchant owes in rewards. */
    liability: z.number(),
  }),
  pointValue: z.number(),
  tiers: z.array(z.object({ id: z.uuid(), name: z.string(), tierOrder: z.number().int(), badgeColor: z.string().nullable(), members: z.number().int() })),
  /** Issued and redeemed per week (from Monday) over the last 12 weeks, empty weeks included. */
  weeks: z.array(z.object({ week: z.iso.date(), ...pointsFigures })),
  recentRedemptions: z.array(z.object({
    id: z.uuid(), customerId: z.uuid(), email: z.string(), rewardName: z.string(), pointsSpent: z.number().int(),
    status: z.enum(REDEMPTION_STATUSES), createdAt: iso,
  })),
});
export type LoyaltyDashboard = z.infer<typeof loyaltyDashboardSchema>;

export const REFERRAL_STATUSES = ['pending', 'converted', 'rejected', 'reversed'] as const;
export const REFERRAL_REASONS = ['self_referral', 'existing_customer', 'already_referred'] as const;

export const referralStatsSchema = z.object({
  /** Referrals that stand: pending, converted or reversed (refusals are counted apart). */
  totalReferrals: z.number().int(),
  pendingReferrals: z.number().int(),
  convertedReferrals: z.number().int(),
  /** Converted referrals whose order was later cancelled. */
  reversedReferrals: z.number().int(),
  rejectedReferrals: z.number().int(),
  rejectedByReason: z.object({ self_referral: z.number().int(), existing_customer: z.number().int(), already_referred: z.number().int() }),
  /** converted / (pending + converted + reversed); null with no referrals. */
  conversionRate: z.number().nullable(),
  /** Order totals of the friends' first orders that converted a referral. */
  totalRevenueGenerated: z.number(),
  /** Referral points the referrers hold for those orders (after refunds). */
  pointsGiven: z.number().int(),
  topReferrers: z.array(z.object({
    customerId: z.uuid(), email: z.string(), referrals: z.number().int(), conversions: z.number().int(), revenue: z.number(),
  })),
});
export type ReferralStats = z.infer<typeof referralStatsSchema>;

export const referralListQuery = z.object({
  status: z.enum(REFERRAL_STATUSES).optional(),
  referrerId: z.uuid('Not a customer id').optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type ReferralListQuery = z.infer<typeof referralListQuery>;

export const referralSchema = z.object({
  id: z.uuid(),
  referrerId: z.uuid(),
  referrerEmail: z.string(),
  code: z.string(),
  friendEmail: z.string(),
  status: z.enum(REFERRAL_STATUSES),
  rejectionReason: z.enum(REFERRAL_REASONS).nullable(),
  orderRevenue: z.number().nullable(),
  pointsGiven: z.number().int(),
  friendCode: z.string().nullable(),
  createdAt: iso,
  convertedAt: iso.nullable(),
});
export type Referral = z.infer<typeof referralSchema>;
export const referralListSchema = z.object({ referrals: z.array(referralSchema), ...pageFields });
export type ReferralList = z.infer<typeof referralListSchema>;

// ---- The merchant's storefront or checkout backend (secret server key) ----------------------

const storefrontEmail = emailSchema;

export const storefrontMemberQuery = z.object({ email: storefrontEmail });

export const storefrontMemberSchema = z.object({
  email: z.string(),
  pointsBalance: z.number().int(),
  tierName: z.string().nullable(),
  nextTierName: z.string().nullable(),
  toNextTier: z.number().nullable(),
  tierBasis: z.enum(TIER_BASES),
  referralCode: z.string(),
  /** The shop's address with ?ref=CODE, when the shop domain is known. */
  referralUrl: z.string().nullable(),
  /** Rewards this member can redeem now: open to its tier, in their window, in stock and affordable. */
  rewards: z.array(rewardSchema.pick({ id: true, name: true, description: true, pointsCost: true, rewardType: true, rewardValue: true })),
});
export type StorefrontMember = z.infer<typeof storefrontMemberSchema>;

/** `requestId`: the caller's own id for this request; a retry with the same id returns the first redemption instead of spending again. */
const requestId = z.string().trim().regex(/^[A-Za-z0-9_-]{8,100}$/, 'Use 8 to 100 letters, digits, dashes or underscores');
export const storefrontRedeemBody = z.object({ email: storefrontEmail, rewardId: z.uuid('Not a reward id'), requestId: requestId.optional() }).strict();
export const storefrontSignupBody = z.object({ email: storefrontEmail }).strict();
export const storefrontReviewBody = z.object({ email: storefrontEmail, reviewId: text({ min: 1, max: 120, required: 'Give the review id' }) }).strict();
export const storefrontReferralBody = z.object({
  code: z.string().trim().toUpperCase().regex(/^[A-Z0-9]{4,16}$/, 'Not a referral code'),
  email: storefrontEmail,
}).strict();

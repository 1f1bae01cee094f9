import { QueryClient } from '@tanstack/react-query';
import { ApiError } from '@/lib/api-client';
import type { CouponSource, CouponStatus } from '@/lib/coupons/schemas';
import type { CustomerListQuery } from '@/lib/customers/schemas';
import type { PageRequest } from '@/lib/fields';
import type { SegmentCriteria } from '@/lib/segments/schemas';

/** The one QueryClient factory: no retries on 4xx (the answer will not change), one on others. */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 1,
      },
      mutations: { retry: false },
    },
  });
}

/** Query keys from one place, so invalidations cannot drift from the queries they target. */
export const queryKeys = {
  session: ['session'] as const,
  integrations: ['settings', 'integrations'] as const,
  store: ['settings', 'store'] as const,
  cronStatus: ['settings', 'jobs'] as const,
  /** Every loyalty query starts with 'loyalty': a write refreshes them all (balances move figures everywhere). */
  loyalty: {
    all: ['loyalty'] as const,
    program: ['loyalty', 'program'] as const,
    dashboard: ['loyalty', 'dashboard'] as const,
    tiers: ['loyalty', 'tiers'] as const,
    rewards: ['loyalty', 'rewards'] as const,
    members: (query: Record<string, string | number | undefined>) => ['loyalty', 'members', query] as const,
    member: (customerId: string, offset: number) => ['loyalty', 'member', customerId, offset] as const,
    referralStats: ['loyalty', 'referrals', 'stats'] as const,
    referrals: (query: Record<string, string | number | undefined>) => ['loyalty', 'referrals', 'list', query] as const,
  },
  /** Figures by day and month: all of them move when the store's time zone does. */
  analytics: {
    all: ['analytics'] as const,
    trends: (period: Record<string, string | number>) => ['analytics', 'trends', period] as const,
    cohorts: (months: number) => ['analytics', 'cohorts', months] as const,
  },
  /** Every win-back query starts with 'winback': a step or a retry moves figures everywhere. */
  winback: {
    all: ['winback'] as const,
    list: ['winback', 'list'] as const,
    campaign: (id: string) => ['winback', 'campaign', id] as const,
    results: (id: string) => ['winback', 'results', id] as const,
    recipients: (id: string, status: string | undefined, after: string | undefined) => ['winback', 'recipients', id, status ?? 'all', after ?? ''] as const,
    messages: (id: string) => ['winback', 'messages', id] as const,
    preview: (campaignId: string | undefined, fields: Record<string, unknown>) => ['winback', 'preview', campaignId ?? 'new', fields] as const,
  },
  /** Every gift query starts with 'gifts': a new gift, a resend or a cancel moves the list and the figures. */
  gifts: {
    all: ['gifts'] as const,
    list: (status: string | undefined, after: string | undefined) => ['gifts', 'list', status ?? 'all', after ?? ''] as const,
    stats: ['gifts', 'stats'] as const,
  },
  /** The shop's compliance requests (data requests and erasures). */
  privacy: {
    requests: ['privacy', 'requests'] as const,
  },
  /** The public claim page's gift (no session). */
  giftClaim: (code: string) => ['gift-claim', code] as const,
  collections: {
    all: ['collections'] as const,
    list: ['collections', 'list'] as const,
    products: ['collections', 'products'] as const,
  },
  customers: {
    all: ['customers'] as const,
    lists: ['customers', 'list'] as const,
    list: (query: Omit<CustomerListQuery, 'format'>) => ['customers', 'list', query] as const,
    journey: (id: string) => ['customers', 'journey', id] as const,
    analytics: ['customers', 'analytics'] as const,
  },
  segments: {
    all: ['segments'] as const,
    list: ['segments', 'list'] as const,
    members: (id: string) => ['segments', 'members', id] as const,
    memberPage: (id: string, page: PageRequest) => ['segments', 'members', id, page] as const,
    preview: (criteria: SegmentCriteria) => ['segments', 'preview', criteria] as const,
  },
  coupons: {
    all: ['coupons'] as const,
    lists: ['coupons', 'list'] as const,
    list: (filters: { status?: CouponStatus; source?: CouponSource; search?: string; batchId?: string; offset: number }) =>
      ['coupons', 'list', filters] as const,
    batches: (offset: number) => ['coupons', 'list', 'batches', offset] as const,
    stats: ['coupons', 'stats'] as const,
    detail: (id: string) => ['coupons', 'detail', id] as const,
    uses: (id: string) => ['coupons', 'uses', id] as const,
    usesPage: (id: string, offset: number) => ['coupons', 'uses', id, offset] as const,
  },
};

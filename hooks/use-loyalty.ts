'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import { api, ApiError } from '@/lib/api-client';
import type { PageRequest } from '@/lib/fields';
import type {
  AdjustBody, LoyaltyDashboard, MemberDetail, MemberList, Program, ProgramPatch, RedemptionResult, ReferralList,
  ReferralStats, Reward, RewardCreate, RewardList, RewardPatch, Tier, TierCreate, TierList, TierPatch,
} from '@/lib/loyalty/schemas';
import { queryKeys } from '@/lib/query-client';

export const MEMBERS_PAGE = 20;
export const LEDGER_PAGE = 20;
export const REFERRALS_PAGE = 20;

/** The program, or null while it is not set up (the API answers 404). */
export function useProgram() {
  return useQuery({
    queryKey: queryKeys.loyalty.program,
    queryFn: async ({ signal }) => {
      try {
        return await api.get<Program>('/api/loyalty/program', signal);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
}

/** Any loyalty write moves balances, counts and tiers: every loyalty query is fetched again. */
function useLoyaltyMutation<I, O>(fn: (input: I) => Promise<O>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.loyalty.all }) });
}

export const useSetupProgram = () => useLoyaltyMutation(() => api.post<Program>('/api/loyalty/setup'));
export const useUpdateProgram = () => useLoyaltyMutation((patch: ProgramPatch) => api.patch<Program>('/api/loyalty/program', patch));

export function useLoyaltyDashboard(enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.loyalty.dashboard,
    queryFn: ({ signal }) => api.get<LoyaltyDashboard>('/api/loyalty/dashboard', signal),
    enabled,
  });
}

export function useTiers(enabled = true) {
  return useQuery({ queryKey: queryKeys.loyalty.tiers, queryFn: ({ signal }) => api.get<TierList>('/api/loyalty/tiers', signal), enabled });
}
export const useCreateTier = () => useLoyaltyMutation((input: TierCreate) => api.post<Tier>('/api/loyalty/tiers', input));
export const useUpdateTier = () => useLoyaltyMutation(({ id, patch }: { id: string; patch: TierPatch }) => api.patch<Tier>(`/api/loyalty/tiers/${encodeURIComponent(id)}`, patch));
export const useDeleteTier = () => useLoyaltyMutation((id: string) => api.delete<{ deleted: true }>(`/api/loyalty/tiers/${encodeURIComponent(id)}`));

export function useRewards(enabled = true) {
  return useQuery({ queryKey: queryKeys.loyalty.rewards, queryFn: ({ signal }) => api.get<RewardList>('/api/loyalty/rewards', signal), enabled });
}
export const useCreateReward = () => useLoyaltyMutation((input: RewardCreate) => api.post<Reward>('/api/loyalty/rewards', input));
export const useUpdateReward = () => useLoyaltyMutation(({ id, patch }: { id: string; patch: RewardPatch }) => api.patch<Reward>(`/api/loyalty/rewards/${encodeURIComponent(id)}`, patch));
export const useDeleteReward = () => useLoyaltyMutation((id: string) => api.delete<{ deleted: true }>(`/api/loyalty/rewards/${encodeURIComponent(id)}`));

export interface MemberFilters {
  tierId?: string;
  search?: string;
  sort: 'balance' | 'earned' | 'joined';
}

/** A page of members: the filters, and where the page starts (a cursor of the last answer, or the last page). */
export function useMembers(f: MemberFilters, page: PageRequest, enabled = true) {
  const query = { tierId: f.tierId, search: f.search, sort: f.sort, order: 'desc', limit: MEMBERS_PAGE, ...page };
  return useQuery({
    queryKey: queryKeys.loyalty.members(query),
    queryFn: ({ signal }) => api.get<MemberList>(`/api/loyalty/members${toQueryString(query)}`, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useMember(customerId: string, offset: number) {
  return useQuery({
    queryKey: queryKeys.loyalty.member(customerId, offset),
    queryFn: async ({ signal }) => {
      try {
        return await api.get<MemberDetail>(`/api/loyalty/members/${encodeURIComponent(customerId)}${toQueryString({ limit: LEDGER_PAGE, offset })}`, signal);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    placeholderData: keepPreviousData,
  });
}

/** `requestId` stays the same for retries of one redemption, so a retry never spends twice. */
export const useRedeem = (customerId: string) =>
  useLoyaltyMutation((input: { rewardId: string; requestId: string }) =>
    api.post<RedemptionResult>(`/api/loyalty/members/${encodeURIComponent(customerId)}/redeem`, input));
export const useAdjust = (customerId: string) =>
  useLoyaltyMutation((body: AdjustBody) => api.post<{ seq: number; balance: number }>(`/api/loyalty/members/${encodeURIComponent(customerId)}/adjust`, body));

export function useReferralStats(enabled = true) {
  return useQuery({ queryKey: queryKeys.loyalty.referralStats, queryFn: ({ signal }) => api.get<ReferralStats>('/api/loyalty/referrals/stats', signal), enabled });
}

export function useReferrals(status: string | undefined, offset: number) {
  const query = { status, limit: REFERRALS_PAGE, offset };
  return useQuery({
    queryKey: queryKeys.loyalty.referrals(query),
    queryFn: ({ signal }) => api.get<ReferralList>(`/api/loyalty/referrals${toQueryString(query)}`, signal),
    placeholderData: keepPreviousData,
  });
}

'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import { api } from '@/lib/api-client';
import type { ClaimResult, Gift, GiftCreate, GiftPage, GiftStats, PublicGift } from '@/lib/gifts/schemas';
import { queryKeys } from '@/lib/query-client';

export const GIFTS_PAGE = 25;
const path = (id: string) => `/api/gifts/${encodeURIComponent(id)}`;

/** One page of gifts (keyset: `after` is the last id of the page before); the page stays while the next loads. */
export function useGifts(status: string | undefined, after: string | undefined) {
  return useQuery({
    queryKey: queryKeys.gifts.list(status, after),
    queryFn: ({ signal }) => api.get<GiftPage>(`/api/gifts${toQueryString({ status, after, limit: GIFTS_PAGE })}`, signal),
    placeholderData: keepPreviousData,
  });
}

export function useGiftStats() {
  return useQuery({ queryKey: queryKeys.gifts.stats, queryFn: ({ signal }) => api.get<GiftStats>('/api/gifts/stats', signal) });
}

function useGiftMutation<I, O>(fn: (input: I) => Promise<O>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.gifts.all }) });
}

export const useCreateGift = () => useGiftMutation((input: GiftCreate) => api.post<Gift>('/api/gifts', input));
export const useCancelGift = () => useGiftMutation((id: string) => api.post<Gift>(`${path(id)}/cancel`));
export const useResendGift = () =>
  useGiftMutation((id: string) => api.post<{ action: 'sent' | 'brought_forward' | 'retried'; gift: Gift }>(`${path(id)}/resend`));
export const useGiftLink = () => useGiftMutation((id: string) => api.post<{ code: string; url: string; gift: Gift }>(`${path(id)}/link`));

// ---- The public claim page ----------------------------------------------------------------

const claimPath = (code: string) => `/api/gifts/claim/${encodeURIComponent(code)}`;

export function usePublicGift(code: string) {
  return useQuery({
    queryKey: queryKeys.giftClaim(code),
    queryFn: ({ signal }) => api.get<{ gift: PublicGift }>(claimPath(code), signal),
    // A wrong link stays wrong, and every lookup counts against the visitor's allowance.
    retry: false,
    refetchOnWindowFocus: false,
  });
}

export function useClaimGift(code: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (email: string) => api.post<ClaimResult>(claimPath(code), { email }),
    onSuccess: (result) => qc.setQueryData(queryKeys.giftClaim(code), { gift: result.gift }),
  });
}

'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import { api } from '@/lib/api-client';
import type {
  Coupon,
  CouponBatch,
  CouponBatchList,
  CouponBulkCreate,
  CouponCreate,
  CouponDeleteResult,
  CouponList,
  CouponPatch,
  CouponSource,
  CouponStatus,
  CouponUses,
  CouponValidate,
  CouponValidation,
} from '@/lib/coupons/schemas';
import { queryKeys } from '@/lib/query-client';

/** Coupons per page in the list. */
export const COUPONS_PAGE = 50;
/** Uses per page in the uses panel. */
export const USES_PAGE = 20;

/** List filters as the page holds them; `offset` pages through the results. */
export interface CouponListFilters {
  status?: CouponStatus;
  source?: CouponSource;
  search?: string;
  /** The codes of one batch (otherwise the list leaves batch codes out unless searching). */
  batchId?: string;
  offset: number;
}

/** Batches per page. */
export const BATCHES_PAGE = 10;

/** The merchant's batches of codes, one row each (under the coupon lists' key, so any write refreshes them). */
export function useCouponBatches(offset: number) {
  return useQuery({
    queryKey: queryKeys.coupons.batches(offset),
    queryFn: ({ signal }) => api.get<CouponBatchList>(`/api/coupons/batches${toQueryString({ limit: BATCHES_PAGE, offset })}`, signal),
    placeholderData: keepPreviousData,
  });
}

const couponPath = (id: string) => `/api/coupons/${encodeURIComponent(id)}`;

/** After any write: lists and stats may change, and the coupon itself is refreshed (or seeded from the answer). */
function refreshAfterWrite(qc: QueryClient, id: string, coupon?: Coupon) {
  if (coupon) qc.setQueryData(queryKeys.coupons.detail(id), coupon);
  else void qc.invalidateQueries({ queryKey: queryKeys.coupons.detail(id) });
  void qc.invalidateQueries({ queryKey: queryKeys.coupons.lists });
  void qc.invalidateQueries({ queryKey: queryKeys.coupons.stats });
}

/** One page of coupons matching the filters; the previous page stays visible while the next loads. */
export function useCoupons(filters: CouponListFilters) {
  return useQuery({
    queryKey: queryKeys.coupons.list(filters),
    queryFn: ({ signal }) =>
      api.get<CouponList>(`/api/coupons${toQueryString({ ...filters, limit: COUPONS_PAGE })}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** Totals across every coupon (not the filtered page), for the stats cards. */
export function useCouponStats() {
  return useQuery({
    queryKey: queryKeys.coupons.stats,
    queryFn: async ({ signal }) => {
      const list = await api.get<CouponList>(`/api/coupons${toQueryString({ stats: 'true', limit: 1 })}`, signal);
      if (!list.stats) throw new Error('The server did not return coupon stats');
      return list.stats;
    },
  });
}

/** One coupon, fresh from the server; `placeholder` (e.g. the list row) shows until it arrives. */
export function useCoupon(id: string, placeholder?: Coupon) {
  return useQuery({
    queryKey: queryKeys.coupons.detail(id),
    queryFn: ({ signal }) => api.get<Coupon>(couponPath(id), signal),
    placeholderData: placeholder,
  });
}

/** One page of a coupon's uses, accepted and rejected, newest first. */
export function useCouponUses(id: string, offset: number) {
  return useQuery({
    queryKey: queryKeys.coupons.usesPage(id, offset),
    queryFn: ({ signal }) =>
      api.get<CouponUses>(`${couponPath(id)}/uses${toQueryString({ limit: USES_PAGE, offset })}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** CSV export of a coupon's uses: a plain link lets the browser handle the download and the session cookie. */
export function couponUsesCsvUrl(id: string): string {
  return `${couponPath(id)}/uses?format=csv`;
}

/** Creates one coupon; a taken code answers 409 with field `code`. */
export function useCreateCoupon() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CouponCreate) => api.post<Coupon>('/api/coupons', input),
    onSuccess: (coupon) => refreshAfterWrite(qc, coupon.id, coupon),
  });
}

/** Edits a coupon's terms (never its code or counters). */
export function useUpdateCoupon() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: CouponPatch }) => api.patch<Coupon>(couponPath(id), patch),
    onSuccess: (coupon, { id }) => refreshAfterWrite(qc, id, coupon),
  });
}

/** Stops an active coupon from being redeemed until it is resumed. */
export function usePauseCoupon() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<Coupon>(`${couponPath(id)}/pause`),
    onSuccess: (coupon, id) => refreshAfterWrite(qc, id, coupon),
  });
}

/** Makes a paused coupon (or a draft) redeemable again. */
export function useResumeCoupon() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<Coupon>(`${couponPath(id)}/resume`),
    onSuccess: (coupon, id) => refreshAfterWrite(qc, id, coupon),
  });
}

/** Deletes a coupon; one that has been used is archived instead, and the answer's `message` says which. */
export function useDeleteCoupon() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete<CouponDeleteResult>(couponPath(id)),
    onSuccess: (result, id) => {
      if (result.deleted) {
        qc.removeQueries({ queryKey: queryKeys.coupons.detail(id) });
        qc.removeQueries({ queryKey: queryKeys.coupons.uses(id) });
      }
      refreshAfterWrite(qc, id);
    },
  });
}

/** Generates a batch of single-use codes; the answer links to a CSV of all of them. */
export function useBulkCreateCoupons() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CouponBulkCreate) => api.post<CouponBatch>('/api/coupons/bulk', input),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.coupons.lists });
      void qc.invalidateQueries({ queryKey: queryKeys.coupons.stats });
    },
  });
}

/** Asks, as a checkout would, whether a code applies to a cart; changes nothing. */
export function useValidateCoupon() {
  return useMutation({
    mutationFn: (input: CouponValidate) => api.post<CouponValidation>('/api/coupons/validate', input),
  });
}

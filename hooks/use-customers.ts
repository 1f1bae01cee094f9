'use client';

import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import type { Erasure } from '@/lib/privacy/schemas';
import type { Customer, CustomerList, CustomerListQuery, CustomerPatch, Journey, JourneyAnalytics } from '@/lib/customers/schemas';
import { queryKeys } from '@/lib/query-client';

const JOURNEY_PAGE = 50;

/** Builds a query string from defined values only, so optional filters never reach the API as "undefined". */
export function toQueryString(params: Record<string, string | number | undefined>): string {
  const qs = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') qs.set(key, String(value));
  }
  const s = qs.toString();
  return s ? `?${s}` : '';
}

/** One page of customers; keeps the previous page on screen while the next one loads. */
export function useCustomers(query: Omit<CustomerListQuery, 'format'>) {
  return useQuery({
    queryKey: queryKeys.customers.list(query),
    queryFn: ({ signal }) => api.get<CustomerList>(`/api/customers${toQueryString(query)}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** Funnel, stage counts and KPIs for the Overview. */
export function useCustomerAnalytics() {
  return useQuery({
    queryKey: queryKeys.customers.analytics,
    queryFn: ({ signal }) => api.get<JourneyAnalytics>('/api/customers/analytics', signal),
  });
}

/** A customer's journey; touchpoints are paged newest first by the server's cursor. */
export function useJourney(id: string) {
  return useInfiniteQuery({
    queryKey: queryKeys.customers.journey(id),
    queryFn: ({ signal, pageParam }) =>
      api.get<Journey>(`/api/customers/${encodeURIComponent(id)}/journey${toQueryString({ limit: JOURNEY_PAGE, before: pageParam })}`, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/** PATCH a customer; writes the answer into the cached journey and refreshes lists and segment counts. */
export function useUpdateCustomer(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CustomerPatch) => api.patch<Customer>(`/api/customers/${encodeURIComponent(id)}`, input),
    onSuccess: (customer) => {
      qc.setQueryData<InfiniteData<Journey, string | undefined>>(queryKeys.customers.journey(id), (old) =>
        old ? { ...old, pages: old.pages.map((p) => ({ ...p, customer })) } : old,
      );
      void qc.invalidateQueries({ queryKey: queryKeys.customers.lists });
      void qc.invalidateQueries({ queryKey: queryKeys.segments.all });
    },
  });
}

/**
 * Erase a customer's personal data (POST .../erase, confirmed); every page that may show them
 * is refreshed: the record, the lists, segments, loyalty and gifts.
 */
export function useEraseCustomer(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<Erasure>(`/api/customers/${encodeURIComponent(id)}/erase`, { confirm: true }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.customers.all });
      void qc.invalidateQueries({ queryKey: queryKeys.segments.all });
      void qc.invalidateQueries({ queryKey: queryKeys.loyalty.all });
      void qc.invalidateQueries({ queryKey: queryKeys.gifts.all });
    },
  });
}

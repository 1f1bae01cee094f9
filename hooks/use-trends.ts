'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import type { Cohorts, Trends } from '@/lib/analytics/schemas';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-client';

/** A period: the last `days` days up to today (the store's today), or a fixed range of days. */
export type TrendsPeriod = { days: number; interval: 'day' | 'week' } | { from: string; to: string; interval: 'day' | 'week' };

/** Figures over time for a period of the store's days, with the period before for comparison. */
export function useTrends(period: TrendsPeriod) {
  return useQuery({
    queryKey: queryKeys.analytics.trends(period),
    queryFn: ({ signal }) => api.get<Trends>(`/api/analytics/trends${toQueryString(period)}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** Cohort retention for the last `months` first-order months. */
export function useCohorts(months: number) {
  return useQuery({
    queryKey: queryKeys.analytics.cohorts(months),
    queryFn: ({ signal }) => api.get<Cohorts>(`/api/analytics/cohorts${toQueryString({ months })}`, signal),
    placeholderData: keepPreviousData,
  });
}

'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import type { Trends } from '@/lib/analytics/schemas';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-client';

/** Figures over time for a period of UTC days, with the period before for comparison. */
export function useTrends(from: string, to: string, interval: 'day' | 'week') {
  return useQuery({
    queryKey: queryKeys.customers.trends(from, to, interval),
    queryFn: ({ signal }) => api.get<Trends>(`/api/analytics/trends${toQueryString({ from, to, interval })}`, signal),
    placeholderData: keepPreviousData,
  });
}

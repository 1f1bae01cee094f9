'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import type { ShopperRequest, ShopperRequestList } from '@/lib/privacy/schemas';
import { queryKeys } from '@/lib/query-client';

/** The shop's data requests and erasures, newest first. */
export function usePrivacyRequests() {
  return useQuery({
    queryKey: queryKeys.privacy.requests,
    queryFn: ({ signal }) => api.get<ShopperRequestList>('/api/privacy/requests', signal),
  });
}

/** Mark a data request answered: it closes, and who it was about is let go. */
export function useMarkHandled() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<ShopperRequest>(`/api/privacy/requests/${encodeURIComponent(id)}/handled`, {}),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.privacy.requests }),
  });
}

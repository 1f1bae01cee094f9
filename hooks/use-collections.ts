'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-client';
import type { CollectionMappings, CollectionMappingsUpdate } from '@/lib/settings/schemas';

/** The merchant's product -> collection map. */
export function useCollectionMappings() {
  return useQuery({
    queryKey: queryKeys.collections,
    queryFn: ({ signal }) => api.get<CollectionMappings>('/api/settings/collections', signal),
  });
}

/** Replaces the whole map; customer affinity may change with it, so customer views refetch. */
export function useUpdateCollectionMappings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CollectionMappingsUpdate) => api.put<CollectionMappings>('/api/settings/collections', input),
    onSuccess: (data) => {
      qc.setQueryData(queryKeys.collections, data);
      void qc.invalidateQueries({ queryKey: queryKeys.customers.all });
    },
  });
}

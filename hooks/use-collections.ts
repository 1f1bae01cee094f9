'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import type {
  Collection, CollectionCreate, CollectionList, CollectionMappings, CollectionMappingsUpdate, CollectionPatch,
} from '@/lib/collections/schemas';
import { queryKeys } from '@/lib/query-client';

/** The merchant's collections, in display order (cached: many views only need their names). */
export function useCollections() {
  return useQuery({
    queryKey: queryKeys.collections.list,
    queryFn: ({ signal }) => api.get<CollectionList>('/api/collections', signal),
    staleTime: 60_000,
  });
}

/** Creating, renaming or removing a collection changes names and scores everywhere. */
function useCollectionMutation<I, O>(fn: (input: I) => Promise<O>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.collections.all });
      void qc.invalidateQueries({ queryKey: queryKeys.customers.all });
      void qc.invalidateQueries({ queryKey: queryKeys.segments.all });
    },
  });
}

export const useCreateCollection = () =>
  useCollectionMutation((input: CollectionCreate) => api.post<Collection>('/api/collections', input));
export const useUpdateCollection = () =>
  useCollectionMutation(({ slug, ...patch }: CollectionPatch & { slug: string }) =>
    api.patch<Collection>(`/api/collections/${encodeURIComponent(slug)}`, patch));
export function useDeleteCollection() {
  const qc = useQueryClient();
  return useCollectionMutation(async (slug: string) => {
    const done = await api.delete<{ deleted: string }>(`/api/collections/${encodeURIComponent(slug)}`);
    // Its mappings went with it; drop them from the cache at once, so an open map editor that
    // restarts from the cache never offers to save them back.
    qc.setQueryData<CollectionMappings>(queryKeys.collections.products, (old) =>
      old && { mappings: old.mappings.filter((m) => m.collection !== slug) });
    return done;
  });
}

/** The merchant's product -> collection map. */
export function useCollectionMappings() {
  return useQuery({
    queryKey: queryKeys.collections.products,
    queryFn: ({ signal }) => api.get<CollectionMappings>('/api/collections/products', signal),
  });
}

/** Replaces the whole map; customer affinity may change with it, so customer views refetch. */
export function useUpdateCollectionMappings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: CollectionMappingsUpdate) => api.put<CollectionMappings>('/api/collections/products', input),
    onSuccess: (data) => {
      qc.setQueryData(queryKeys.collections.products, data);
      void qc.invalidateQueries({ queryKey: queryKeys.collections.list });
      void qc.invalidateQueries({ queryKey: queryKeys.customers.all });
    },
  });
}

'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-client';
import type { IntegrationsUpdate, IntegrationsView, KlaviyoHealth, StoreSettings, StoreSettingsUpdate } from '@/lib/settings/schemas';

export function useIntegrations() {
  return useQuery({
    queryKey: queryKeys.integrations,
    queryFn: ({ signal }) => api.get<IntegrationsView>('/api/settings/integrations', signal),
  });
}

export function useUpdateIntegrations() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: IntegrationsUpdate) => api.put<IntegrationsView>('/api/settings/integrations', input),
    onSuccess: (data) => qc.setQueryData(queryKeys.integrations, data),
  });
}

/** Ask Klaviyo whether the saved key works; Settings shows the answer. */
export function useCheckKlaviyo() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<KlaviyoHealth['connection']>('/api/settings/integrations/klaviyo/check'),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.integrations }),
  });
}

export function useRotateTrackingKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<{ publishableKey: string }>('/api/settings/tracking-key/rotate'),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.integrations }),
  });
}

export function useRotateServerKey() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<{ serverKey: string }>('/api/settings/server-key/rotate'),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.integrations }),
  });
}

export function useStoreSettings() {
  return useQuery({
    queryKey: queryKeys.store,
    queryFn: ({ signal }) => api.get<StoreSettings>('/api/settings/store', signal),
  });
}

/** A new time zone recomputes every daily and monthly figure, so those are fetched again. */
export function useUpdateStoreSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: StoreSettingsUpdate) => api.put<StoreSettings>('/api/settings/store', input),
    onSuccess: (data) => {
      qc.setQueryData(queryKeys.store, data);
      void qc.invalidateQueries({ queryKey: queryKeys.analytics.all });
    },
  });
}

'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '@/lib/api-client';
import type { CronStatus } from '@/lib/cron/schemas';
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

/** The scheduled jobs' last calls; looked at again every minute while Settings is open. */
export function useCronStatus() {
  return useQuery({
    queryKey: queryKeys.cronStatus,
    queryFn: ({ signal }) => api.get<CronStatus>('/api/settings/jobs', signal),
    refetchInterval: 60_000,
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

/** "Connect Shopify": the shop's authorize page to send the browser to (with the state cookie set). */
export function useStartShopifyInstall() {
  return useMutation({
    mutationFn: (shop: string) => api.post<{ authorizeUrl: string }>('/api/shopify/install', { shop }),
  });
}

/** Ask the shop what is registered and create the app's missing webhooks. */
export function useRepairShopifyWebhooks() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<{ problems: { topic: string; message: string }[]; integrations: IntegrationsView }>('/api/settings/shopify/webhooks'),
    onSuccess: (data) => qc.setQueryData(queryKeys.integrations, data.integrations),
  });
}

/** Disconnect the store installed through the app (token and binding go; data stays). */
export function useDisconnectShopify() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.delete<IntegrationsView>('/api/settings/shopify'),
    onSuccess: (data) => qc.setQueryData(queryKeys.integrations, data),
  });
}

'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import { api } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-client';
import type {
  Audience, Campaign, CampaignCreate, CampaignList, CampaignPatch, MessageList, RecipientPage, Results,
} from '@/lib/winback/schemas';

export const RECIPIENTS_PAGE = 25;
const path = (id: string) => `/api/winback/campaigns/${encodeURIComponent(id)}`;

export function useCampaigns() {
  return useQuery({ queryKey: queryKeys.winback.list, queryFn: ({ signal }) => api.get<CampaignList>('/api/winback/campaigns', signal) });
}

export function useCampaign(id: string) {
  return useQuery({
    queryKey: queryKeys.winback.campaign(id),
    queryFn: ({ signal }) => api.get<Campaign>(path(id), signal),
    // While a large audience is being enrolled, the count moves: look again every few seconds.
    refetchInterval: (q) => (q.state.data?.enrolling ? 3000 : false),
  });
}

export function useCampaignResults(id: string, enabled = true) {
  return useQuery({ queryKey: queryKeys.winback.results(id), queryFn: ({ signal }) => api.get<Results>(`${path(id)}/results`, signal), enabled });
}

/** One page of recipients (keyset: `after` is the last id of the page before); the page stays while the next loads. */
export function useRecipients(id: string, status: string | undefined, after: string | undefined) {
  return useQuery({
    queryKey: queryKeys.winback.recipients(id, status, after),
    queryFn: ({ signal }) => api.get<RecipientPage>(`${path(id)}/recipients${toQueryString({ status, after, limit: RECIPIENTS_PAGE })}`, signal),
    placeholderData: keepPreviousData,
  });
}

export function useCampaignMessages(id: string, enabled = true) {
  return useQuery({ queryKey: queryKeys.winback.messages(id), queryFn: ({ signal }) => api.get<MessageList>(`${path(id)}/messages`, signal), enabled });
}

/** The audience of the form's fields as typed; the caller debounces `fields`. */
export function useAudiencePreview(campaignId: string | undefined, fields: CampaignPatch, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.winback.preview(campaignId, fields),
    queryFn: () => api.post<Audience>('/api/winback/preview', { ...(campaignId ? { campaignId } : {}), fields }),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

function useWinbackMutation<I, O>(fn: (input: I) => Promise<O>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.winback.all }),
  });
}

export const useCreateCampaign = () => useWinbackMutation((input: CampaignCreate) => api.post<Campaign>('/api/winback/campaigns', input));
export const useUpdateCampaign = () => useWinbackMutation(({ id, patch }: { id: string; patch: CampaignPatch }) => api.patch<Campaign>(path(id), patch));
export const useDeleteCampaign = () => useWinbackMutation((id: string) => api.delete<{ deleted: true }>(path(id)));
export type CampaignStep = 'activate' | 'pause' | 'resume' | 'complete';
export const useCampaignStep = () =>
  useWinbackMutation(({ id, step }: { id: string; step: CampaignStep }) =>
    api.post<{ campaign: Campaign; result: Record<string, unknown> }>(`${path(id)}/${step}`));
export const useRetryMessages = () =>
  useWinbackMutation(({ id, ids }: { id: string; ids?: string[] }) => api.post<{ retried: number }>(`${path(id)}/messages/retry`, ids ? { ids } : {}));

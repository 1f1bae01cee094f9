'use client';

import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { toQueryString } from '@/hooks/use-customers';
import { api } from '@/lib/api-client';
import type { PageRequest } from '@/lib/fields';
import { queryKeys } from '@/lib/query-client';
import type { Segment, SegmentCreate, SegmentCriteria, SegmentEvaluation, SegmentList, SegmentMembers, SegmentPatch } from '@/lib/segments/schemas';

/** Members per page in the segment panel; matches the customer list. */
export const MEMBERS_PAGE = 20;

const segmentPath = (id: string) => `/api/segments/${encodeURIComponent(id)}`;

/** All of the merchant's segments. */
export function useSegments() {
  return useQuery({
    queryKey: queryKeys.segments.list,
    queryFn: ({ signal }) => api.get<SegmentList>('/api/segments', signal),
    // While a build or a Klaviyo sync runs, its progress and count move: look again every few
    // seconds. A sync turned off or stopped by an error is not running, whatever its figures say.
    refetchInterval: (query) => (query.state.data?.segments.some((s) => s.building || (s.syncEnabled && !s.klaviyoSyncError && s.klaviyoSyncLeft > 0))
      ? 5_000 : false),
  });
}

/** Live member count for criteria being edited; the caller debounces `criteria`. */
export function useSegmentPreview(criteria: SegmentCriteria, enabled: boolean) {
  return useQuery({
    queryKey: queryKeys.segments.preview(criteria),
    queryFn: () => api.post<{ count: number }>('/api/segments/preview', { criteria }),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

/** One page of a segment's members; the previous page stays visible while paging. */
export function useSegmentMembers(id: string, page: PageRequest) {
  return useQuery({
    queryKey: queryKeys.segments.memberPage(id, page),
    queryFn: ({ signal }) => api.get<SegmentMembers>(`${segmentPath(id)}/members${toQueryString({ limit: MEMBERS_PAGE, ...page })}`, signal),
    placeholderData: keepPreviousData,
  });
}

/** CSV export URL: a plain link lets the browser handle the download and the session cookie. */
export function segmentCsvUrl(id: string): string {
  return `${segmentPath(id)}/members?format=csv`;
}

/** Creates (and server-side evaluates) a segment. */
export function useCreateSegment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (input: SegmentCreate) => api.post<Segment>('/api/segments', input),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.segments.list }),
  });
}

/** Edits a segment; its member list may change with the criteria. */
export function useUpdateSegment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: SegmentPatch }) => api.patch<Segment>(segmentPath(id), patch),
    onSuccess: (_data, { id }) => {
      void qc.invalidateQueries({ queryKey: queryKeys.segments.list });
      void qc.invalidateQueries({ queryKey: queryKeys.segments.members(id) });
    },
  });
}

/** Deletes a segment and forgets its cached members. */
export function useDeleteSegment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.delete<void>(segmentPath(id)),
    onSuccess: (_data, id) => {
      qc.removeQueries({ queryKey: queryKeys.segments.members(id) });
      void qc.invalidateQueries({ queryKey: queryKeys.segments.list });
    },
  });
}

/** Re-runs a segment's criteria now; counts and members refresh. */
export function useEvaluateSegment() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.post<SegmentEvaluation>(`${segmentPath(id)}/evaluate`),
    onSuccess: (_data, id) => {
      void qc.invalidateQueries({ queryKey: queryKeys.segments.list });
      void qc.invalidateQueries({ queryKey: queryKeys.segments.members(id) });
    },
  });
}

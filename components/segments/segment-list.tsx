'use client';

import { Download, Pencil, Play, Trash2 } from 'lucide-react';
import { describeCriteria } from '@/components/segments/criteria';
import { klaviyoSyncStatus } from '@/components/segments/sync-status';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useCollections } from '@/hooks/use-collections';
import { segmentCsvUrl } from '@/hooks/use-segments';
import { cn } from '@/lib/cn';
import { formatDateTime, formatNumber, formatRelative } from '@/lib/format';
import type { Segment } from '@/lib/segments/schemas';

export type SegmentListProps = {
  segments: Segment[];
  selectedId: string | null;
  evaluatingId: string | null;
  onSelect: (s: Segment) => void;
  onEdit: (s: Segment) => void;
  onEvaluate: (s: Segment) => void;
  onDelete: (s: Segment) => void;
};

/** Table of segments with per-row actions; the name selects the segment whose members are shown below. */
export function SegmentList({ segments, selectedId, evaluatingId, onSelect, onEdit, onEvaluate, onDelete }: SegmentListProps) {
  const collections = useCollections().data?.collections;
  return (
    <Table>
      <caption className="sr-only">Segments</caption>
      <THead>
        <tr>
          <TH>Segment</TH>
          <TH className="text-right">Members</TH>
          <TH>Status</TH>
          <TH>Members as of</TH>
          <TH><span className="sr-only">Actions</span></TH>
        </tr>
      </THead>
      <TBody>
        {segments.map((s) => {
          const selected = s.id === selectedId;
          return (
            <TR key={s.id} className={cn(selected && 'bg-brand-50/60 hover:bg-brand-50/60')}>
              <TD className="max-w-sm">
                <button type="button" onClick={() => onSelect(s)} aria-pressed={selected}
                  className="text-left font-medium text-brand-800 underline-offset-4 hover:underline">
                  {s.name}
                  <span className="sr-only">, show members</span>
                </button>
                {s.description ? <p className="truncate text-xs text-slate-600">{s.description}</p> : null}
                <p className="truncate text-xs text-slate-500" title={describeCriteria(s.criteria, collections)}>{describeCriteria(s.criteria, collections)}</p>
              </TD>
              <TD className="text-right font-semibold tabular-nums" data-testid="segment-count">{formatNumber(s.customerCount)}</TD>
              <TD>
                <div className="flex flex-wrap gap-1">
                  <Badge variant={s.isDynamic ? 'info' : 'secondary'}>{s.isDynamic ? 'Dynamic' : 'Static'}</Badge>
                  <Badge variant={s.isActive ? 'success' : 'secondary'}>{s.isActive ? 'Active' : 'Paused'}</Badge>
                  {s.syncEnabled ? <SyncBadge segment={s} /> : null}
                </div>
              </TD>
              <TD className="whitespace-nowrap text-slate-600">
                <MembersAsOf segment={s} />
              </TD>
              <TD>
                <div className="flex justify-end gap-1">
                  <Button variant="ghost" size="sm" onClick={() => onEvaluate(s)} loading={evaluatingId === s.id} aria-label={`Evaluate ${s.name} now`} title="Evaluate now">
                    {evaluatingId === s.id ? null : <Play className="size-4" aria-hidden="true" />}
                    <span className="hidden xl:inline">Evaluate</span>
                  </Button>
                  <a href={segmentCsvUrl(s.id)} download aria-label={`Export ${s.name} members as CSV`} title="Export CSV"
                    className="inline-flex h-8 items-center gap-1.5 rounded-md px-3 text-sm font-medium text-slate-700 hover:bg-slate-100">
                    <Download className="size-4" aria-hidden="true" />
                    <span className="hidden xl:inline">CSV</span>
                  </a>
                  <Button variant="ghost" size="sm" onClick={() => onEdit(s)} aria-label={`Edit ${s.name}`} title="Edit">
                    <Pencil className="size-4" aria-hidden="true" />
                  </Button>
                  <Button variant="ghost" size="sm" onClick={() => onDelete(s)} aria-label={`Delete ${s.name}`} title="Delete"
                    className="text-red-700 hover:bg-red-50">
                    <Trash2 className="size-4" aria-hidden="true" />
                  </Button>
                </div>
              </TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}

/** The list's state as a badge; its detail (with the figures) is its title and its accessible description. */
function SyncBadge({ segment }: { segment: Segment }) {
  const status = klaviyoSyncStatus(segment);
  return (
    <Badge variant={status.failed ? 'danger' : 'default'} title={status.detail} data-testid="segment-sync-badge">
      {status.label}
      <span className="sr-only">: {status.detail}</span>
    </Badge>
  );
}

/**
 * When the members are true as of: a build under way says how far it has come (the old members
 * stay until it ends); a dynamic segment follows every change as the segments job runs; a static
 * or paused one is the snapshot of its last evaluation.
 */
function MembersAsOf({ segment: s }: { segment: Segment }) {
  if (s.followError) return <span className="whitespace-normal text-red-700" role="status">{s.followError}</span>;
  if (s.building) {
    return (
      <span role="status" title="Members are being worked out from scratch for new criteria; the previous members are shown until it ends.">
        Updating… {Math.round((s.buildProgress ?? 0) * 100)}%
      </span>
    );
  }
  if (s.isDynamic && s.isActive) {
    return (
      <span title={`Members change as customers do, each time the segments job runs; days since purchase are checked then too${s.lastEvaluatedAt ? ` (last check ${formatDateTime(s.lastEvaluatedAt)})` : ''}.`}>
        Follows changes
      </span>
    );
  }
  return s.lastEvaluatedAt
    ? <time dateTime={s.lastEvaluatedAt} title={`Snapshot of ${formatDateTime(s.lastEvaluatedAt)}`}>{formatRelative(s.lastEvaluatedAt)}</time>
    : <>Never</>;
}

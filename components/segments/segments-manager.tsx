'use client';

import { Filter, Plus } from 'lucide-react';
import { useState } from 'react';
import { SegmentEditor } from '@/components/segments/segment-editor';
import { SegmentList } from '@/components/segments/segment-list';
import { SegmentMembers } from '@/components/segments/segment-members';
import { Button } from '@/components/ui/button';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Modal } from '@/components/ui/modal';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useDeleteSegment, useEvaluateSegment, useSegments } from '@/hooks/use-segments';
import { formatNumber } from '@/lib/format';
import type { Segment } from '@/lib/segments/schemas';

type Editing = { segment: Segment | null } | null;

/** Segments page body: list, create/edit modal, evaluate, delete confirmation and the selected segment's members. */
export function SegmentsManager() {
  const { data, isPending, error, refetch } = useSegments();
  const evaluate = useEvaluateSegment();
  const remove = useDeleteSegment();
  const { toast } = useToast();
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Segment | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);

  async function runEvaluate(s: Segment) {
    try {
      const r = await evaluate.mutateAsync(s.id);
      toast({ title: `${s.name} evaluated`, description: `${formatNumber(r.added)} added, ${formatNumber(r.removed)} removed, ${formatNumber(r.total)} members now.`, variant: 'success' });
    } catch (err) {
      toast({ title: `Could not evaluate ${s.name}`, description: err instanceof Error ? err.message : undefined, variant: 'error' });
    }
  }

  async function confirmDelete() {
    if (!deleting) return;
    const s = deleting;
    try {
      await remove.mutateAsync(s.id);
      toast({ title: `${s.name} deleted`, variant: 'success' });
      if (selectedId === s.id) setSelectedId(null);
      setDeleting(null);
    } catch (err) {
      toast({ title: `Could not delete ${s.name}`, description: err instanceof Error ? err.message : undefined, variant: 'error' });
    }
  }

  const createButton = (
    <Button onClick={() => setEditing({ segment: null })}>
      <Plus className="size-4" aria-hidden="true" />
      Create segment
    </Button>
  );

  let content;
  if (isPending) content = <Card><LoadingBlock label="Loading segments" rows={4} /></Card>;
  else if (error) content = <Card><ErrorState title="Could not load segments" message={error.message} onRetry={() => void refetch()} /></Card>;
  else if (data.segments.length === 0) {
    content = (
      <Card>
        <EmptyState icon={Filter} title="No segments yet"
          description="A segment groups customers by stage, collection, spend, orders or recency, for example VIPs who have not bought in 60 days. Dynamic segments stay up to date on their own."
          action={createButton} />
      </Card>
    );
  } else {
    const selected = data.segments.find((s) => s.id === selectedId) ?? data.segments[0];
    content = (
      <>
        <Card>
          <CardHeader title="Your segments" description={`${formatNumber(data.segments.length)} ${data.segments.length === 1 ? 'segment' : 'segments'}`} actions={createButton} />
          <SegmentList segments={data.segments} selectedId={selected?.id ?? null}
            evaluatingId={evaluate.isPending ? (evaluate.variables ?? null) : null}
            onSelect={(s) => setSelectedId(s.id)} onEdit={(s) => setEditing({ segment: s })}
            onEvaluate={(s) => void runEvaluate(s)} onDelete={setDeleting} />
        </Card>
        {selected ? <SegmentMembers key={selected.id} segment={selected} /> : null}
      </>
    );
  }

  return (
    <>
      {content}
      {editing ? (
        <SegmentEditor key={editing.segment?.id ?? 'new'} segment={editing.segment} onClose={() => setEditing(null)}
          onSaved={(s) => {
            setEditing(null);
            setSelectedId(s.id);
          }} />
      ) : null}
      <Modal open={deleting !== null} onClose={() => setDeleting(null)} size="sm" title={`Delete ${deleting?.name ?? 'segment'}?`}
        description="The segment and its member list are removed. Customers themselves are not affected."
        footer={<>
          <Button variant="ghost" onClick={() => setDeleting(null)}>Cancel</Button>
          <Button variant="danger" loading={remove.isPending} onClick={() => void confirmDelete()}>Delete segment</Button>
        </>} />
    </>
  );
}

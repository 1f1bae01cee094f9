'use client';

import { Layers, Plus, SearchX, Tag } from 'lucide-react';
import { useState } from 'react';
import { BatchList } from '@/components/coupons/batch-list';
import { BulkCreateModal } from '@/components/coupons/bulk-create';
import { CouponEditor } from '@/components/coupons/coupon-editor';
import { CouponFilters } from '@/components/coupons/coupon-filters';
import { CouponList } from '@/components/coupons/coupon-list';
import { CouponStats } from '@/components/coupons/coupon-stats';
import { CouponUsesModal } from '@/components/coupons/coupon-uses';
import { describeDiscount, SOURCE_LABELS, STATUS_LABELS, toggleAction } from '@/components/coupons/labels';
import { TestCodeCard } from '@/components/coupons/test-code';
import { PageContainer } from '@/components/layout/page-container';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Modal } from '@/components/ui/modal';
import { Pagination } from '@/components/ui/pagination';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import {
  COUPONS_PAGE, useCoupons, useDeleteCoupon, usePauseCoupon, useResumeCoupon,
} from '@/hooks/use-coupons';
import { useDebouncedValue } from '@/hooks/use-debounced-value';
import type { Coupon, CouponSource, CouponStatus } from '@/lib/coupons/schemas';
import { formatNumber } from '@/lib/format';

type Editing = { coupon: Coupon | null } | null;

/** Coupons page: stats, filterable list with row actions, create/edit, bulk generation, uses and a code tester. */
export function CouponsManager() {
  const [status, setStatus] = useState<CouponStatus | undefined>(undefined);
  const [source, setSource] = useState<CouponSource | undefined>(undefined);
  const [searchInput, setSearchInput] = useState('');
  const search = useDebouncedValue(searchInput.trim(), 300);
  const [offset, setOffset] = useState(0);
  const [seenSearch, setSeenSearch] = useState(search);
  if (search !== seenSearch) {
    setSeenSearch(search);
    setOffset(0);
  }
  const { data, isPending, isPlaceholderData, isFetching, error, refetch } = useCoupons({ status, source, search: search || undefined, offset });
  const pause = usePauseCoupon();
  const resume = useResumeCoupon();
  const remove = useDeleteCoupon();
  const { toast } = useToast();
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Coupon | null>(null);
  const [viewing, setViewing] = useState<Coupon | null>(null);
  const [bulkOpen, setBulkOpen] = useState(false);
  const [togglingId, setTogglingId] = useState<string | null>(null);

  const filtered = Boolean(status || source || search);
  function clearFilters() {
    setStatus(undefined);
    setSource(undefined);
    setSearchInput('');
    setOffset(0);
  }

  async function toggle(c: Coupon) {
    const action = toggleAction(c.status);
    if (!action) return;
    setTogglingId(c.id);
    try {
      const updated = action === 'pause' ? await pause.mutateAsync(c.id) : await resume.mutateAsync(c.id);
      const verb = action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'activated';
      toast({ title: `${c.code} ${verb}`, description: `Status: ${STATUS_LABELS[updated.status]}`, variant: 'success' });
    } catch (err) {
      toast({ title: `Could not ${action} ${c.code}`, description: err instanceof Error ? err.message : undefined, variant: 'error' });
    } finally {
      setTogglingId(null);
    }
  }

  async function confirmDelete() {
    if (!deleting) return;
    const c = deleting;
    try {
      const result = await remove.mutateAsync(c.id);
      toast({ title: result.archived ? `${c.code} archived` : `${c.code} deleted`, description: result.message, variant: result.archived ? 'info' : 'success' });
      setDeleting(null);
    } catch (err) {
      toast({ title: `Could not delete ${c.code}`, description: err instanceof Error ? err.message : undefined, variant: 'error' });
    }
  }

  const createButton = (
    <Button onClick={() => setEditing({ coupon: null })}>
      <Plus className="size-4" aria-hidden="true" />
      Create coupon
    </Button>
  );

  let body;
  if (isPending) body = <LoadingBlock label="Loading coupons" rows={6} />;
  else if (error) body = <ErrorState title="Could not load coupons" message={error.message} onRetry={() => void refetch()} />;
  else if (data.coupons.length === 0) {
    body = filtered || offset > 0 ? (
      <EmptyState icon={SearchX} title="No coupons match these filters" description="Try another status, source or search, or clear the filters to see every coupon."
        action={<Button variant="secondary" onClick={clearFilters}>Clear filters</Button>} />
    ) : (
      <EmptyState icon={Tag} title="No coupons yet"
        description="Create a code for a promotion, or generate a batch of single-use codes for a newsletter or printed inserts."
        action={createButton} />
    );
  } else {
    const caption = ['Coupons', status ? `with status ${STATUS_LABELS[status]}` : null, source ? `from ${SOURCE_LABELS[source]}` : null,
      search ? `matching “${search}”` : null].filter(Boolean).join(' ');
    body = (
      <>
        <CouponList coupons={data.coupons} caption={caption} busy={isPlaceholderData && isFetching} togglingId={togglingId}
          onEdit={(c) => setEditing({ coupon: c })} onToggle={(c) => void toggle(c)} onDelete={setDeleting} onViewUses={setViewing} />
        {data.total > COUPONS_PAGE ? (
          <CardBody className="border-t border-slate-200">
            <Pagination label="Coupon pages" offset={offset} limit={COUPONS_PAGE} total={data.total} onChange={setOffset} disabled={isPlaceholderData} />
          </CardBody>
        ) : null}
      </>
    );
  }

  return (
    <PageContainer title="Coupons" description="Discount codes for promotions, win-back, loyalty and referrals, with every use and refusal on record."
      actions={<>
        <Button variant="secondary" onClick={() => setBulkOpen(true)}>
          <Layers className="size-4" aria-hidden="true" />
          Generate codes
        </Button>
        {createButton}
      </>}>
      <CouponStats />
      <Card>
        <CardHeader title="Your coupons"
          description={data ? `${formatNumber(data.total)} ${data.total === 1 ? 'coupon' : 'coupons'}${filtered ? ' match' : ''}` : undefined} />
        <CardBody className="border-b border-slate-200">
          <CouponFilters status={status} source={source} search={searchInput}
            onStatus={(s) => { setStatus(s); setOffset(0); }}
            onSource={(s) => { setSource(s); setOffset(0); }}
            onSearch={setSearchInput} />
        </CardBody>
        {body}
      </Card>
      <BatchList />
      <TestCodeCard />

      {editing ? (
        <CouponEditor key={editing.coupon?.id ?? 'new'} coupon={editing.coupon} onClose={() => setEditing(null)} onSaved={() => setEditing(null)} />
      ) : null}
      {bulkOpen ? <BulkCreateModal onClose={() => setBulkOpen(false)} /> : null}
      {viewing ? <CouponUsesModal key={viewing.id} coupon={viewing} onClose={() => setViewing(null)} /> : null}
      <Modal open={deleting !== null} onClose={() => setDeleting(null)} size="sm" title={`Delete ${deleting?.code ?? 'coupon'}?`}
        description={deleting && (deleting.usageCount > 0 || deleting.rejectedCount > 0)
          ? 'This code has been used, so it will be archived instead: nobody can use it again, and its order history is kept.'
          : 'Customers will no longer be able to use this code. This cannot be undone.'}
        footer={<>
          <Button variant="ghost" onClick={() => setDeleting(null)}>Cancel</Button>
          <Button variant="danger" loading={remove.isPending} onClick={() => void confirmDelete()}>Delete coupon</Button>
        </>}>
        {deleting ? (
          <p className="text-sm text-slate-700">
            <code className="font-mono font-semibold text-slate-900">{deleting.code}</code> · {describeDiscount(deleting)} ·{' '}
            {formatNumber(deleting.usageCount)} {deleting.usageCount === 1 ? 'use' : 'uses'}
          </p>
        ) : null}
      </Modal>
    </PageContainer>
  );
}

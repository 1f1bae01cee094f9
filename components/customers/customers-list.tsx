'use client';

import { Download, SearchX, Users } from 'lucide-react';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { CustomerFilters } from '@/components/customers/customer-filters';
import { CustomersTable } from '@/components/customers/customers-table';
import { moveParams, nextListParams, PAGE_KEYS, PAGE_SIZES, parseListParams } from '@/components/customers/list-params';
import { Button } from '@/components/ui/button';
import { Card, CardBody } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { emptyPageMove, KeysetPagination, keysetPager } from '@/components/ui/keyset-pagination';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Select } from '@/components/ui/select';
import { toQueryString, useCustomers } from '@/hooks/use-customers';
import { STAGE_LABELS } from '@/lib/customers/schemas';
import { formatNumber } from '@/lib/format';

const SEARCH_DEBOUNCE_MS = 300;

/** Customer list whose filters live in the URL, so links like ?stage=at_risk and back/forward work. */
export function CustomersList() {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const { query, from } = parseListParams(new URLSearchParams(searchParams.toString()));
  const { data, isPending, isPlaceholderData, isFetching, error, refetch } = useCustomers(query);

  // The search box is local while typing; it follows the URL when the URL changes from elsewhere (back, Clear).
  const urlSearch = searchParams.get('search') ?? '';
  const [searchInput, setSearchInput] = useState(urlSearch);
  const [sentSearch, setSentSearch] = useState(urlSearch);
  const [seenUrlSearch, setSeenUrlSearch] = useState(urlSearch);
  if (urlSearch !== seenUrlSearch) {
    setSeenUrlSearch(urlSearch);
    if (urlSearch !== sentSearch) {
      setSearchInput(urlSearch);
      setSentSearch(urlSearch);
    }
  }
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  function navigate(patch: Record<string, string | undefined>, mode: 'push' | 'replace') {
    // Read the live URL, not a render-time snapshot: a debounced search may fire after other filters changed.
    const href = `${pathname}${nextListParams(new URLSearchParams(window.location.search), patch)}`;
    if (mode === 'push') router.push(href, { scroll: false });
    else router.replace(href, { scroll: false });
  }

  // A cursor past the end (a bookmark, or rows that went since) shows the last page instead,
  // and one before the start the first page.
  const emptyPage = Boolean(data && !isPlaceholderData && data.total > 0 && data.customers.length === 0 && (query.after || query.before));
  useEffect(() => {
    if (emptyPage) navigate(moveParams(emptyPageMove(query)), 'replace');
    // navigate reads the live URL; only a change of this matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [emptyPage]);

  function onSearchInput(value: string) {
    setSearchInput(value);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      const trimmed = value.trim();
      setSentSearch(trimmed);
      navigate({ search: trimmed || undefined, ...PAGE_KEYS }, 'replace');
    }, SEARCH_DEBOUNCE_MS);
  }

  function clearFilters() {
    if (timer.current) clearTimeout(timer.current);
    setSearchInput('');
    setSentSearch('');
    navigate({ search: undefined, stage: undefined, collection: undefined, ...PAGE_KEYS }, 'push');
  }

  const filtered = Boolean(query.stage || query.collection || query.search);
  const caption = [
    'Customers',
    query.stage ? `in stage ${STAGE_LABELS[query.stage]}` : null,
    query.search ? `matching “${query.search}”` : null,
  ].filter(Boolean).join(' ');

  let body;
  if (isPending || emptyPage) body = <LoadingBlock label="Loading customers" rows={10} />;
  else if (error) body = <ErrorState title="Could not load customers" message={error.message} onRetry={() => void refetch()} />;
  else if (data.total === 0 || data.customers.length === 0) {
    body = filtered ? (
      <EmptyState icon={SearchX} title="No customers match these filters" description="Try another stage, collection or search, or clear the filters to see everyone."
        action={<Button variant="secondary" onClick={clearFilters}>Clear filters</Button>} />
    ) : (
      <EmptyState icon={Users} title="No customers yet"
        description="Customers appear as orders arrive from your shop and storefront events are tracked."
        action={<Link href="/dashboard/settings" className="text-sm font-medium text-brand-700 underline underline-offset-4">Connect your shop in Settings</Link>} />
    );
  } else {
    body = (
      <>
        <CustomersTable customers={data.customers} busy={isPlaceholderData && isFetching} caption={caption}
          sort={query.sort} order={query.order} onSort={(sort, order) => navigate({ sort, order, ...PAGE_KEYS }, 'push')} />
        <CardBody className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-200">
          <KeysetPagination label="Customer pages" disabled={isPlaceholderData} className="min-w-0 flex-1"
            {...keysetPager(data, data.customers.length, query.limit, from, (move) => navigate(moveParams(move), 'push'))} />
          <div className="flex flex-wrap items-center gap-3">
            <label htmlFor="customer-page-size" className="text-sm text-slate-600">Rows per page</label>
            <Select id="customer-page-size" value={String(query.limit)} className="w-20"
              onChange={(e) => navigate({ size: e.target.value, ...PAGE_KEYS }, 'push')}>
              {PAGE_SIZES.map((n) => <option key={n} value={n}>{n}</option>)}
            </Select>
            <a href={`/api/customers${toQueryString({ stage: query.stage, collection: query.collection, search: query.search, sort: query.sort, order: query.order, format: 'csv' })}`}
              download className="inline-flex h-9 items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 text-sm font-medium text-slate-800 hover:bg-slate-50"
              title={`The ${formatNumber(data.total)} customers these filters match, in this order`}>
              <Download className="size-4" aria-hidden="true" />Export CSV
            </a>
          </div>
        </CardBody>
      </>
    );
  }

  return (
    <div className="space-y-4">
      <CustomerFilters query={query} searchInput={searchInput} onSearchInput={onSearchInput}
        onChange={(patch) => navigate({ ...patch, ...PAGE_KEYS }, 'push')} onClear={clearFilters} />
      <Card>{body}</Card>
    </div>
  );
}

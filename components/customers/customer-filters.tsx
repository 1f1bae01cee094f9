'use client';

import { Search } from 'lucide-react';
import { SORT_OPTIONS } from '@/components/customers/list-params';
import { Button } from '@/components/ui/button';
import { Input } from '@/components/ui/input';
import { Label } from '@/components/ui/label';
import { Select } from '@/components/ui/select';
import { useCollections } from '@/hooks/use-collections';
import { customerListQuery, STAGE_LABELS, STAGES, type CustomerListQuery } from '@/lib/customers/schemas';

export type CustomerFiltersProps = {
  query: Omit<CustomerListQuery, 'format'>;
  searchInput: string;
  onSearchInput: (value: string) => void;
  onChange: (patch: Record<string, string | undefined>) => void;
  onClear: () => void;
};

/** Search, stage, collection and sort controls for the customer list; every control has a visible label. */
export function CustomerFilters({ query, searchInput, onSearchInput, onChange, onClear }: CustomerFiltersProps) {
  const filtered = Boolean(query.stage || query.collection || query.search || searchInput.trim());
  const collections = useCollections();
  return (
    <form role="search" aria-label="Filter customers" onSubmit={(e) => e.preventDefault()}
      className="grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,1.5fr)_minmax(0,1fr)_minmax(0,1fr)_minmax(0,1.3fr)_auto] lg:items-end">
      <div className="space-y-1.5">
        <Label htmlFor="customer-search">Search</Label>
        <div className="relative">
          <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-slate-400" aria-hidden="true" />
          <Input id="customer-search" type="search" value={searchInput} onChange={(e) => onSearchInput(e.target.value)}
            placeholder="Email or name" className="pl-9" autoComplete="off" maxLength={customerListQuery.shape.search.unwrap().maxLength ?? undefined} />
        </div>
      </div>
      <div className="space-y-1.5">
        <Label htmlFor="customer-stage">Stage</Label>
        <Select id="customer-stage" value={query.stage ?? ''} onChange={(e) => onChange({ stage: e.target.value || undefined })}>
          <option value="">All stages</option>
          {STAGES.map((s) => <option key={s} value={s}>{STAGE_LABELS[s]}</option>)}
        </Select>
      </div>
      <div className="space-y-1.5">
        <Label htmlFor="customer-collection">Collection</Label>
        <Select id="customer-collection" value={query.collection ?? ''} onChange={(e) => onChange({ collection: e.target.value || undefined })}>
          <option value="">All collections</option>
          {(collections.data?.collections ?? []).map((c) => <option key={c.slug} value={c.slug}>{c.name}</option>)}
        </Select>
      </div>
      <div className="space-y-1.5">
        <Label htmlFor="customer-sort">Sort by</Label>
        <Select id="customer-sort" value={`${query.sort}:${query.order}`}
          onChange={(e) => {
            const [sort, order] = e.target.value.split(':');
            onChange({ sort, order });
          }}>
          {SORT_OPTIONS.map((o) => <option key={`${o.sort}:${o.order}`} value={`${o.sort}:${o.order}`}>{o.label}</option>)}
        </Select>
      </div>
      <Button variant="ghost" onClick={onClear} disabled={!filtered}>Clear filters</Button>
    </form>
  );
}

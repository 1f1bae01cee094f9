'use client';

import { Users } from 'lucide-react';
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Input } from '@/components/ui/input';
import { KeysetPagination } from '@/components/ui/keyset-pagination';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useDebouncedValue } from '@/hooks/use-debounced-value';
import { useKeysetPager } from '@/hooks/use-keyset-pager';
import { MEMBERS_PAGE, useMembers, useTiers, type MemberFilters } from '@/hooks/use-loyalty';
import { formatDate, formatNumber } from '@/lib/format';

const SORTS = [
  { value: 'balance', label: 'Points balance' },
  { value: 'earned', label: 'Points earned' },
  { value: 'joined', label: 'Newest members' },
] as const;

/** Members: filter by tier, search by name or email, sort by balance, points earned or joining. */
export function LoyaltyMembers() {
  return (
    <LoyaltyShell title="Members" description="Everyone with a points account: balance, tier and what they have earned and spent.">
      {() => <MembersBody />}
    </LoyaltyShell>
  );
}

function MembersBody() {
  const [tierId, setTierId] = useState<string | undefined>(undefined);
  const [sort, setSort] = useState<MemberFilters['sort']>('balance');
  const [searchInput, setSearchInput] = useState('');
  const search = useDebouncedValue(searchInput.trim(), 300);
  const { request, reset, pager, onEmpty } = useKeysetPager(MEMBERS_PAGE);
  const tiers = useTiers();
  const { data, isPending, error, refetch, isPlaceholderData } = useMembers({ tierId, sort, search: search || undefined }, request);
  const emptyPage = Boolean(data && !isPlaceholderData && data.total > 0 && data.members.length === 0 && (request.after || request.before));
  useEffect(() => {
    if (emptyPage) onEmpty();
    // Only a change of this matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [emptyPage]);
  // The search is debounced: a new one starts from the first page when it takes effect.
  const [seenSearch, setSeenSearch] = useState(search);
  if (search !== seenSearch) {
    setSeenSearch(search);
    reset();
  }

  return (
    <Card>
      <div className="flex flex-wrap items-end gap-3 border-b border-slate-200 px-5 py-4">
        <div className="min-w-0 flex-1 basis-56">
          <label htmlFor="member-search" className="block text-xs font-medium text-slate-600">Search</label>
          <Input id="member-search" type="search" placeholder="Name or email" value={searchInput}
            onChange={(e) => setSearchInput(e.target.value)} />
        </div>
        <div>
          <label htmlFor="member-tier" className="block text-xs font-medium text-slate-600">Tier</label>
          <Select id="member-tier" value={tierId ?? ''} className="w-40" onChange={(e) => { setTierId(e.target.value || undefined); reset(); }}>
            <option value="">All tiers</option>
            {(tiers.data?.tiers ?? []).map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
          </Select>
        </div>
        <div>
          <label htmlFor="member-sort" className="block text-xs font-medium text-slate-600">Sort by</label>
          <Select id="member-sort" value={sort} className="w-44" onChange={(e) => { setSort(e.target.value as MemberFilters['sort']); reset(); }}>
            {SORTS.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </Select>
        </div>
      </div>
      {isPending || emptyPage ? <LoadingBlock label="Loading members" rows={8} />
        : error ? <ErrorState title="Could not load members" message={error.message} onRetry={() => void refetch()} />
          : data.total === 0
            ? <EmptyState icon={Users} title={tierId || search ? 'No members match' : 'No members yet'}
                description={tierId || search ? 'Try another tier or search.' : 'Customers become members when they earn their first points, from an order or a bonus.'} />
            : (
              <div className={isPlaceholderData ? 'opacity-60 transition-opacity' : undefined}>
                <Table>
                  <caption className="sr-only">Loyalty members, sorted by {SORTS.find((s) => s.value === sort)?.label.toLowerCase()}</caption>
                  <THead>
                    <TR><TH>Member</TH><TH>Tier</TH><TH className="text-right">Balance</TH><TH className="text-right">Earned</TH><TH className="text-right">Redeemed</TH><TH>Joined</TH></TR>
                  </THead>
                  <TBody>
                    {data.members.map((m) => (
                      <TR key={m.customerId}>
                        <TD className="max-w-64">
                          <Link className="block truncate font-medium text-brand-700 hover:underline" href={`/dashboard/loyalty/members/${m.customerId}`}>
                            {[m.firstName, m.lastName].filter(Boolean).join(' ') || m.email}
                          </Link>
                          {m.firstName || m.lastName ? <span className="block truncate text-xs text-slate-500">{m.email}</span> : null}
                        </TD>
                        <TD>{m.tierName ?? '—'}</TD>
                        <TD className="text-right font-medium tabular-nums">{formatNumber(m.pointsBalance)}</TD>
                        <TD className="text-right tabular-nums">{formatNumber(m.pointsEarned)}</TD>
                        <TD className="text-right tabular-nums">{formatNumber(m.pointsRedeemed)}</TD>
                        <TD className="whitespace-nowrap">{formatDate(m.joinedAt)}</TD>
                      </TR>
                    ))}
                  </TBody>
                </Table>
                <div className="border-t border-slate-200 px-5 py-3">
                  <KeysetPagination {...pager(data, data.members.length)} disabled={isPlaceholderData} label="Members pages" />
                </div>
              </div>
            )}
    </Card>
  );
}

import type { PageMove } from '@/components/ui/keyset-pagination';
import { collectionSlug } from '@/lib/collections/schemas';
import { CUSTOMER_SORTS, STAGES, type CustomerListQuery, type Stage } from '@/lib/customers/schemas';

/** Rows per page: one screen of the table on a laptop by default, more when asked (`?size=`). */
export const CUSTOMERS_PAGE_SIZE = 20;
export const PAGE_SIZES = [20, 50, 100] as const;

/** A page of the list as the page asks for it (the CSV export is a link, not a query). */
export type ListQuery = Omit<CustomerListQuery, 'format'>;
type Sort = CustomerListQuery['sort'];
type Order = CustomerListQuery['order'];

/** The direction a column starts in when its header is first chosen: biggest and newest first, emails A–Z. */
export const FIRST_ORDER: Record<Sort, Order> = { ltv: 'desc', recent_purchase: 'desc', orders: 'desc', created: 'desc', email: 'asc' };

/** Sort choices as one select: field and direction together read better than two controls. */
export const SORT_OPTIONS: { sort: Sort; order: Order; label: string }[] = [
  { sort: 'ltv', order: 'desc', label: 'Highest lifetime value' },
  { sort: 'ltv', order: 'asc', label: 'Lowest lifetime value' },
  { sort: 'recent_purchase', order: 'desc', label: 'Most recent purchase' },
  { sort: 'recent_purchase', order: 'asc', label: 'Least recent purchase' },
  { sort: 'orders', order: 'desc', label: 'Most orders' },
  { sort: 'orders', order: 'asc', label: 'Fewest orders' },
  { sort: 'created', order: 'desc', label: 'Newest customers' },
  { sort: 'created', order: 'asc', label: 'Oldest customers' },
  { sort: 'email', order: 'asc', label: 'Email A–Z' },
  { sort: 'email', order: 'desc', label: 'Email Z–A' },
];

function pick<T extends string>(allowed: readonly T[], value: string | null): T | undefined {
  return allowed.find((a) => a === value);
}

/** A cursor as the API writes one (base64url), so a mangled link is dropped rather than refused. */
const CURSOR = /^[A-Za-z0-9_-]{1,400}$/;

/**
 * Reads the list from the URL; unknown values fall back to defaults instead of failing the page.
 * The page is a cursor (`after`, `before`) or the last page (`end=last`); `from`, the position of
 * its first row, is only for the "21–40 of N" the page shows, as the list knows no position.
 */
export function parseListParams(params: URLSearchParams): { query: ListQuery; from: number | null } {
  const sizeRaw = Number(params.get('size'));
  const size = PAGE_SIZES.find((s) => s === sizeRaw) ?? CUSTOMERS_PAGE_SIZE;
  const cursor = (name: string) => {
    const v = params.get(name);
    return v && CURSOR.test(v) ? v : undefined;
  };
  const after = cursor('after');
  const before = after ? undefined : cursor('before');
  const end = after || before || params.get('end') !== 'last' ? undefined : 'last';
  const fromRaw = Number.parseInt(params.get('from') ?? '', 10);
  const start = after || before ? (Number.isFinite(fromRaw) && fromRaw >= 1 ? fromRaw : null) : end ? null : 1;
  const search = (params.get('search') ?? '').trim();
  const stage: Stage | undefined = pick(STAGES, params.get('stage'));
  const parsedCollection = collectionSlug.safeParse(params.get('collection') ?? '');
  const collection = parsedCollection.success ? parsedCollection.data : undefined;
  return {
    from: start,
    query: {
      stage,
      collection,
      search: search === '' ? undefined : search.slice(0, 200),
      sort: pick(CUSTOMER_SORTS, params.get('sort')) ?? 'ltv',
      order: params.get('order') === 'asc' ? 'asc' : 'desc',
      limit: size,
      after,
      before,
      end,
    },
  };
}

/** Every key that says which page: a change of filter, sort or size drops them all (back to the first page). */
export const PAGE_KEYS = { after: undefined, before: undefined, end: undefined, from: undefined, page: undefined } as const;

/** A pager's move as URL keys: its cursor or end, and the position it starts at when known. */
export function moveParams(move: PageMove): Record<string, string | undefined> {
  return { ...PAGE_KEYS, ...move.request, from: move.from === null || move.from === 1 ? undefined : String(move.from) };
}

/** Applies changes to the current query string and drops values equal to their defaults, keeping URLs short. */
export function nextListParams(current: URLSearchParams, patch: Record<string, string | undefined>): string {
  const next = new URLSearchParams(current);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === '') next.delete(key);
    else next.set(key, value);
  }
  if (next.get('sort') === 'ltv') next.delete('sort');
  if (next.get('order') === 'desc') next.delete('order');
  if (next.get('size') === String(CUSTOMERS_PAGE_SIZE)) next.delete('size');
  const qs = next.toString();
  return qs ? `?${qs}` : '';
}

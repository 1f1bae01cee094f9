'use client';

import { useState } from 'react';
import { pageStart, type KeysetPaginationProps } from '@/components/ui/keyset-pagination';
import type { PageRequest } from '@/lib/fields';

type Page = { total: number; prev: string | null; next: string | null };

/**
 * Which page of a keyset list is shown, kept in the component (the customers list keeps it in
 * its URL instead): the request to send, a reset for when filters change, and the pager's props
 * for the page that came back. The position is counted from the clicks, exact at either end.
 */
export function useKeysetPager(limit: number) {
  const [state, setState] = useState<{ request: PageRequest; from: number | null }>({ request: {}, from: 1 });
  const reset = () => setState({ request: {}, from: 1 });
  const pager = (page: Page, shown: number): Omit<KeysetPaginationProps, 'label'> => {
    const from = pageStart(state.from, shown, page.total, page.prev !== null, page.next !== null);
    return {
      from, shown, total: page.total, hasPrev: page.prev !== null, hasNext: page.next !== null,
      onFirst: reset,
      onLast: () => setState({ request: { end: 'last' }, from: null }),
      onNext: () => setState({ request: { after: page.next ?? undefined }, from: from === null ? null : from + shown }),
      onPrev: () => setState({ request: { before: page.prev ?? undefined }, from: from === null ? null : Math.max(1, from - limit) }),
    };
  };
  /** A page that came back empty from a cursor (its rows went since): show the nearest end instead. */
  const onEmpty = () => setState(state.request.after ? { request: { end: 'last' }, from: null } : { request: {}, from: 1 });
  return { request: state.request, reset, pager, onEmpty };
}

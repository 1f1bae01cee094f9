'use client';

import { useState } from 'react';
import { emptyPageMove, FIRST_PAGE, keysetPager, type PageMove } from '@/components/ui/keyset-pagination';

type Page = { total: number; prev: string | null; next: string | null };

/**
 * Which page of a keyset list is shown, kept in the component (the customers list keeps it in
 * its URL instead): the request to send, a reset for when filters change, and the pager's props
 * for the page that came back.
 */
export function useKeysetPager(limit: number) {
  const [state, setState] = useState<PageMove>(FIRST_PAGE);
  const reset = () => setState(FIRST_PAGE);
  const pager = (page: Page, shown: number) => keysetPager(page, shown, limit, state.from, setState);
  /** A page that came back empty from a cursor (its rows went since): show the nearest end instead. */
  const onEmpty = () => setState(emptyPageMove(state.request));
  return { request: state.request, reset, pager, onEmpty };
}

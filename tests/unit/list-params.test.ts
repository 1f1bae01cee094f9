import { describe, expect, it } from 'vitest';
import { moveParams, nextListParams, PAGE_KEYS, parseListParams } from '@/components/customers/list-params';
import { emptyPageMove, keysetPager, pageStart, type PageMove } from '@/components/ui/keyset-pagination';

const parse = (qs: string) => parseListParams(new URLSearchParams(qs));

describe('the customers list page in its URL', () => {
  it('reads a cursor, the last page, or the first page, and the position shown', () => {
    expect(parse('')).toMatchObject({ from: 1, query: { after: undefined, before: undefined, end: undefined } });
    expect(parse('after=WyJsdHYtZGVzYyJd&from=41')).toMatchObject({ from: 41, query: { after: 'WyJsdHYtZGVzYyJd' } });
    expect(parse('before=abc_-9')).toMatchObject({ from: null, query: { before: 'abc_-9' } });
    expect(parse('end=last')).toMatchObject({ from: null, query: { end: 'last' } });
  });

  it('drops what the API would refuse instead of failing the page: a mangled cursor, two starting points, a bad position', () => {
    expect(parse('after=not%20a%20cursor')).toMatchObject({ from: 1, query: { after: undefined } });
    expect(parse('after=abc&before=def&end=last').query).toMatchObject({ after: 'abc', before: undefined, end: undefined });
    expect(parse('after=abc&from=-3').from).toBeNull();
    expect(parse('page=7')).toMatchObject({ from: 1, query: { after: undefined } });
  });

  it('leaves the page when a filter, sort or size changes', () => {
    const current = new URLSearchParams('stage=vip&after=abc&from=21&page=3');
    expect(nextListParams(current, { sort: 'orders', ...PAGE_KEYS })).toBe('?stage=vip&sort=orders');
  });
});

describe('where a page starts, as the pager shows it', () => {
  it('is exact at either end whatever the hint says, and the hint between', () => {
    expect(pageStart(999, 20, 100, false, true)).toBe(1);
    expect(pageStart(5, 20, 100, true, false)).toBe(81);
    expect(pageStart(null, 7, 5, true, false)).toBe(1);
    expect(pageStart(41, 20, 100, true, true)).toBe(41);
    expect(pageStart(null, 20, 100, true, true)).toBeNull();
  });
});

describe('the pager\'s moves', () => {
  it('goes next and back by cursor, counting the position, and to either end', () => {
    const moves: PageMove[] = [];
    const props = keysetPager({ total: 100, prev: 'p', next: 'n' }, 20, 20, 41, (m) => moves.push(m));
    props.onNext();
    props.onPrev();
    props.onLast();
    props.onFirst();
    expect(moves).toEqual([
      { request: { after: 'n' }, from: 61 }, { request: { before: 'p' }, from: 21 },
      { request: { end: 'last' }, from: null }, { request: {}, from: 1 },
    ]);
    expect(props).toMatchObject({ from: 41, shown: 20, total: 100, hasPrev: true, hasNext: true });
  });

  it('sends an empty page after a cursor to the last page, before one to the first, and writes moves as URL keys', () => {
    expect(emptyPageMove({ after: 'x' })).toEqual({ request: { end: 'last' }, from: null });
    expect(emptyPageMove({ before: 'x' })).toEqual({ request: {}, from: 1 });
    expect(nextListParams(new URLSearchParams('stage=vip&end=last'), moveParams({ request: { after: 'abc' }, from: 21 }))).toBe('?stage=vip&after=abc&from=21');
    expect(nextListParams(new URLSearchParams('after=abc&from=21'), moveParams({ request: {}, from: 1 }))).toBe('');
  });
});

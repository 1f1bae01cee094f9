/** A CSV cell: quoted when needed, and a leading = + - @ neutralised so spreadsheets do not run it. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r']/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, without its line break. */
export function csvRow(values: (string | number | null)[]): string {
  return values.map(csvCell).join(',');
}

/** A whole CSV document: header line, one line per row, trailing newline. */
export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  return `${[csvRow(header), ...rows.map(csvRow)].join('\n')}\n`;
}

/**
 * A file the browser saves rather than shows: attachment, never cached, never sniffed into
 * another type (a shopper's data must not render as a page).
 */
export function downloadResponse(body: BodyInit, contentType: string, filename: string): Response {
  return new Response(body, {
    headers: {
      'content-type': contentType,
      'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}

/** A CSV download. */
export function csvResponse(body: string, filename: string): Response {
  return downloadResponse(body, 'text/csv; charset=utf-8', filename);
}

export type CsvCell = string | number | null;

/** One page of an export: its rows, and where the next page starts (null: this was the last). */
export interface CsvPage<C> {
  rows: CsvCell[][];
  next: C | null;
}

/**
 * A CSV download read page by page as the client takes it: each pull asks `page(cursor)` for
 * the next rows (each page its own short transaction, by keyset), so nothing waits on the
 * client while holding a database connection, the server keeps about one page in memory
 * whatever the file's size, and a client that stops reading or goes away just stops the pulls.
 * A failure midway ends the download early (the headers are gone) and is logged, never shown.
 */
export function csvPagesResponse<C>(filename: string, header: string[], page: (cursor: C | null) => Promise<CsvPage<C>>): Response {
  const encoder = new TextEncoder();
  const lines = (rows: CsvCell[][]) => encoder.encode(`${rows.map(csvRow).join('\n')}\n`);
  let cursor: C | null = null;
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true;
          controller.enqueue(lines([header]));
          return;
        }
        const next = await page(cursor);
        if (next.rows.length > 0) controller.enqueue(lines(next.rows));
        if (next.next === null) controller.close();
        else cursor = next.next;
      } catch (err) {
        console.error('[api] CSV export stopped', err instanceof Error ? err.message : err);
        controller.error(new Error('The export stopped'));
      }
    },
  }, { highWaterMark: 0 });
  return downloadResponse(body, 'text/csv; charset=utf-8', filename);
}

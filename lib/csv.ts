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

/**
 * A CSV download written while it is read: `produce` is handed `write(rows)` and writes batch
 * after batch; each write waits until the client has taken what came before (backpressure), so
 * the server holds about one batch whatever the file's size. The response starts at once; a
 * failure midway ends the download early (the headers are gone) and is logged, never shown.
 * A client that goes away makes the next write throw, which ends `produce` (and its transaction).
 */
export function csvStreamResponse(filename: string, header: string[], produce: (write: (rows: CsvCell[][]) => Promise<void>) => Promise<void>): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  const write = async (rows: CsvCell[][]) => {
    if (rows.length === 0) return;
    await writer.ready;
    await writer.write(encoder.encode(`${rows.map(csvRow).join('\n')}\n`));
  };
  void (async () => {
    try {
      await write([header]);
      await produce(write);
      await writer.close();
    } catch (err) {
      console.error('[api] CSV export stopped', err instanceof Error ? err.message : err);
      await writer.abort(err).catch(() => undefined);
    }
  })();
  return downloadResponse(readable, 'text/csv; charset=utf-8', filename);
}

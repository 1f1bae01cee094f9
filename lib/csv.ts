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
export function downloadResponse(body: string, contentType: string, filename: string): Response {
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

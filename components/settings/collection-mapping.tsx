'use client';

import { PackageSearch, Plus, Trash2 } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Input } from '@/components/ui/input';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { useCollectionMappings, useCollections, useUpdateCollectionMappings } from '@/hooks/use-collections';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { collectionMappingsUpdate, type Collection, type CollectionMappings } from '@/lib/collections/schemas';

type Row = { key: number; productId: string; collection: string };

let nextKey = 1;
const toRows = (m: CollectionMappings['mappings']): Row[] => m.map((x) => ({ key: nextKey++, ...x }));

const productIdField = collectionMappingsUpdate.shape.mappings.element.shape.productId;

/** Each product id by the server's own field rule, and each product once. */
function validate(rows: Row[]): Map<number, string> {
  const errors = new Map<number, string>();
  const seen = new Map<string, number>();
  for (const r of rows) {
    const id = productIdField.safeParse(r.productId);
    if (!id.success) errors.set(r.key, id.error.issues[0]?.message ?? 'Not a valid product id');
    else if (seen.has(id.data)) errors.set(r.key, 'This product is already mapped above');
    else seen.set(id.data, r.key);
  }
  return errors;
}

/** Product -> collection map that drives collection affinity; edited as a table and saved as a whole. */
export function CollectionMapping() {
  const mappings = useCollectionMappings();
  const list = useCollections();
  const isPending = mappings.isPending || list.isPending;
  const error = mappings.error ?? list.error;
  const refetch = () => Promise.all([mappings.refetch(), list.refetch()]);
  return (
    <Card>
      <CardHeader title="Product collections"
        description="Which collection each product belongs to. Purchases and views of a product count towards a customer's interest in its collection." />
      {isPending ? <LoadingBlock label="Loading product collections" rows={3} />
        : error ? <ErrorState title="Could not load product collections" message={error.message} onRetry={() => void refetch()} />
          : mappings.data && list.data
            // A collection added or removed elsewhere changes the choices (and removal drops its
            // mappings): the editor starts again from what the server now holds.
            ? <MappingEditor key={list.data.collections.map((c) => c.slug).join(' ')} initial={mappings.data.mappings} collections={list.data.collections} />
            : null}
    </Card>
  );
}

function MappingEditor({ initial, collections }: { initial: CollectionMappings['mappings']; collections: Collection[] }) {
  const update = useUpdateCollectionMappings();
  const { toast } = useToast();
  const [rows, setRows] = useState<Row[]>(() => toRows(initial));
  const [dirty, setDirty] = useState(false);
  const [showErrors, setShowErrors] = useState(false);
  const [serverError, setServerError] = useState<{ key: number | null; message: string } | null>(null);
  const errors = showErrors ? validate(rows) : new Map<number, string>();

  function edit(next: Row[]) {
    setRows(next);
    setDirty(true);
    setServerError(null);
  }

  function addRow() {
    const row: Row = { key: nextKey++, productId: '', collection: collections[0]?.slug ?? '' };
    edit([...rows, row]);
    requestAnimationFrame(() => document.getElementById(`mapping-product-${row.key}`)?.focus());
  }

  async function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setShowErrors(true);
    const problems = validate(rows);
    const first = rows.find((r) => problems.has(r.key));
    if (first) {
      document.getElementById(`mapping-product-${first.key}`)?.focus();
      return;
    }
    try {
      const saved = await update.mutateAsync({ mappings: rows.map((r) => ({ productId: r.productId.trim(), collection: r.collection })) });
      setRows(toRows(saved.mappings));
      setDirty(false);
      setShowErrors(false);
      toast({ title: 'Product collections saved', description: `${saved.mappings.length} products mapped.`, variant: 'success' });
    } catch (err) {
      // The server names the row as mappings.<index>.productId when it can.
      const index = err instanceof ApiError ? Number(err.field?.match(/^mappings\.(\d+)/)?.[1] ?? Number.NaN) : Number.NaN;
      const row = Number.isInteger(index) ? rows[index] : undefined;
      setServerError({ key: row?.key ?? null, message: errorText(err, 'Could not save') });
    }
  }

  if (collections.length === 0) {
    return (
      <EmptyState icon={PackageSearch} title="No collections yet"
        description="Add your store's collections above, then map your products to them." />
    );
  }
  if (rows.length === 0 && !dirty) {
    return (
      <EmptyState icon={PackageSearch} title="No products mapped yet"
        description={`Map your products to ${collections.map((c) => c.name).join(', ')} so customer collection affinity can be worked out.`}
        action={<Button variant="secondary" onClick={addRow}><Plus className="size-4" aria-hidden="true" />Add product</Button>} />
    );
  }

  return (
    <form onSubmit={save} aria-label="Product collections" noValidate>
      {rows.length > 0 ? (
        <Table>
          <THead>
            <tr>
              <TH>Product id</TH>
              <TH>Collection</TH>
              <TH><span className="sr-only">Remove</span></TH>
            </tr>
          </THead>
          <TBody>
            {rows.map((r, i) => {
              const message = errors.get(r.key) ?? (serverError?.key === r.key ? serverError.message : undefined);
              const errId = `mapping-product-${r.key}-error`;
              return (
                <TR key={r.key}>
                  <TD className="align-top">
                    <label htmlFor={`mapping-product-${r.key}`} className="sr-only">Product id, row {i + 1}</label>
                    <Input id={`mapping-product-${r.key}`} value={r.productId} maxLength={productIdField.maxLength ?? undefined} placeholder="e.g. 8123456789" className="font-mono"
                      invalid={Boolean(message)} aria-describedby={message ? errId : undefined}
                      onChange={(e) => edit(rows.map((x) => (x.key === r.key ? { ...x, productId: e.target.value } : x)))} />
                    {message ? <p id={errId} role="alert" className="mt-1 text-xs font-medium text-red-700">{message}</p> : null}
                  </TD>
                  <TD className="w-48 align-top">
                    <label htmlFor={`mapping-collection-${r.key}`} className="sr-only">Collection, row {i + 1}</label>
                    <Select id={`mapping-collection-${r.key}`} value={r.collection}
                      onChange={(e) => {
                        const collection = collections.find((c) => c.slug === e.target.value)?.slug ?? r.collection;
                        edit(rows.map((x) => (x.key === r.key ? { ...x, collection } : x)));
                      }}>
                      {collections.map((c) => <option key={c.slug} value={c.slug}>{c.name}</option>)}
                    </Select>
                  </TD>
                  <TD className="w-12 align-top">
                    <Button variant="ghost" size="sm" className="mt-1" aria-label={`Remove row ${i + 1}${r.productId ? ` (${r.productId})` : ''}`}
                      onClick={() => edit(rows.filter((x) => x.key !== r.key))}>
                      <Trash2 className="size-4" aria-hidden="true" />
                    </Button>
                  </TD>
                </TR>
              );
            })}
          </TBody>
        </Table>
      ) : (
        <p className="px-5 py-4 text-sm text-slate-600">All rows removed. Save to clear the map, or add a product.</p>
      )}
      <CardBody className="flex flex-wrap items-center gap-2 border-t border-slate-200">
        {serverError && serverError.key === null ? <p role="alert" className="w-full text-sm font-medium text-red-700">{serverError.message}</p> : null}
        <Button variant="secondary" size="sm" onClick={addRow}><Plus className="size-4" aria-hidden="true" />Add product</Button>
        <Button type="submit" size="sm" loading={update.isPending} disabled={!dirty}>Save collections</Button>
        {dirty ? <span className="text-xs text-slate-600" aria-live="polite">Unsaved changes</span> : null}
      </CardBody>
    </form>
  );
}

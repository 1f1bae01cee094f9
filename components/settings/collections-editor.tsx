'use client';

import { Check, Layers, Plus, Trash2 } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useCollections, useCreateCollection, useDeleteCollection, useUpdateCollection } from '@/hooks/use-collections';
import { collectionCreate, collectionNameField, type Collection } from '@/lib/collections/schemas';
import { errorText } from '@/lib/error-text';
import { formatNumber } from '@/lib/format';

/** The store's collections: add, rename (the slug events carry stays) and remove. */
export function CollectionsEditor() {
  const { data, isPending, error, refetch } = useCollections();
  const [removing, setRemoving] = useState<Collection | null>(null);
  return (
    <Card>
      <CardHeader title="Collections"
        description="Your store's collections. Storefront events and mapped products count towards a customer's interest in each; segments and coupons can target them." />
      {isPending ? <LoadingBlock label="Loading collections" rows={3} />
        : error ? <ErrorState title="Could not load collections" message={error.message} onRetry={() => void refetch()} />
          : (
            <>
              {data.collections.length === 0
                ? <EmptyState icon={Layers} title="No collections yet" description="Add the collections your store sells, such as Rings or Gift sets." />
                : (
                  <ul className="divide-y divide-slate-200" aria-label="Collections">
                    {data.collections.map((c) => <CollectionRow key={c.slug} collection={c} onRemove={() => setRemoving(c)} />)}
                  </ul>
                )}
              <AddCollection />
            </>
          )}
      <RemoveCollection collection={removing} onClose={() => setRemoving(null)} />
    </Card>
  );
}

function CollectionRow({ collection, onRemove }: { collection: Collection; onRemove: () => void }) {
  const update = useUpdateCollection();
  const { toast } = useToast();
  const [name, setName] = useState(collection.name);
  const [message, setMessage] = useState<string | null>(null);
  const id = `collection-name-${collection.slug}`;
  const changed = name.trim() !== collection.name;

  async function rename(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const parsed = collectionCreate.shape.name.safeParse(name);
    if (!parsed.success) {
      setMessage(parsed.error.issues[0]?.message ?? 'Not a valid name');
      return;
    }
    try {
      await update.mutateAsync({ slug: collection.slug, name: parsed.data });
      setMessage(null);
      toast({ title: 'Collection renamed', description: `${collection.name} is now ${parsed.data}.`, variant: 'success' });
    } catch (err) {
      setMessage(errorText(err, 'Could not rename'));
    }
  }

  return (
    <li className="px-5 py-3">
      <form onSubmit={rename} className="flex flex-wrap items-start gap-2" aria-label={`Collection ${collection.name}`} noValidate>
        <div className="min-w-0 flex-1">
          <label htmlFor={id} className="sr-only">Name of {collection.name}</label>
          <Input id={id} value={name} maxLength={collectionNameField.maxLength ?? undefined} invalid={Boolean(message)} aria-describedby={message ? `${id}-error` : `${id}-hint`}
            onChange={(e) => { setName(e.target.value); setMessage(null); }} />
          <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
            <code className="font-mono">{collection.slug}</code> · {formatNumber(collection.products)} {collection.products === 1 ? 'product' : 'products'}
          </p>
          {message ? <p id={`${id}-error`} role="alert" className="mt-1 text-xs font-medium text-red-700">{message}</p> : null}
        </div>
        <Button type="submit" variant="secondary" size="sm" disabled={!changed} loading={update.isPending}>
          <Check className="size-4" aria-hidden="true" />Rename
        </Button>
        <Button variant="ghost" size="sm" aria-label={`Remove ${collection.name}`} onClick={onRemove}>
          <Trash2 className="size-4" aria-hidden="true" />
        </Button>
      </form>
    </li>
  );
}

function AddCollection() {
  const create = useCreateCollection();
  const { toast } = useToast();
  const [name, setName] = useState('');
  const [message, setMessage] = useState<string | null>(null);

  async function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const parsed = collectionCreate.safeParse({ name });
    if (!parsed.success) {
      setMessage(parsed.error.issues[0]?.message ?? 'Not a valid name');
      return;
    }
    try {
      const made = await create.mutateAsync(parsed.data);
      setName('');
      setMessage(null);
      toast({ title: 'Collection added', description: `${made.name} (${made.slug})`, variant: 'success' });
    } catch (err) {
      setMessage(errorText(err, 'Could not add the collection'));
    }
  }

  return (
    <CardBody className="border-t border-slate-200">
      <form onSubmit={add} className="flex flex-wrap items-start gap-2" aria-label="Add a collection" noValidate>
        <div className="min-w-0 flex-1">
          <label htmlFor="collection-new" className="sr-only">New collection name</label>
          <Input id="collection-new" value={name} maxLength={collectionNameField.maxLength ?? undefined} placeholder="New collection, e.g. Gift sets"
            invalid={Boolean(message)} aria-describedby={message ? 'collection-new-error' : undefined}
            onChange={(e) => { setName(e.target.value); setMessage(null); }} />
          {message ? <p id="collection-new-error" role="alert" className="mt-1 text-xs font-medium text-red-700">{message}</p> : null}
        </div>
        <Button type="submit" size="sm" loading={create.isPending}><Plus className="size-4" aria-hidden="true" />Add collection</Button>
      </form>
    </CardBody>
  );
}

function RemoveCollection({ collection, onClose }: { collection: Collection | null; onClose: () => void }) {
  const remove = useDeleteCollection();
  const { toast } = useToast();
  async function confirm() {
    if (!collection) return;
    try {
      await remove.mutateAsync(collection.slug);
      toast({ title: 'Collection removed', description: collection.name, variant: 'success' });
      onClose();
    } catch (err) {
      toast({ title: 'Could not remove the collection', description: errorText(err, 'Please try again'), variant: 'error' });
    }
  }
  return (
    <Modal open={collection !== null} onClose={onClose} size="sm" title={`Remove ${collection?.name ?? 'collection'}?`}
      description="Its product mappings and every customer's interest score for it are deleted. Coupons and segments limited to this collection alone are paused, so they never widen to your whole store."
      footer={<>
        <Button variant="ghost" onClick={onClose}>Cancel</Button>
        <Button variant="danger" loading={remove.isPending} onClick={() => void confirm()}>Remove collection</Button>
      </>}>
      {collection ? (
        <p className="text-sm text-slate-700">
          <code className="font-mono">{collection.slug}</code> · {formatNumber(collection.products)} mapped {collection.products === 1 ? 'product' : 'products'}
        </p>
      ) : null}
    </Modal>
  );
}

import 'server-only';
import { AppError } from '@/lib/errors';
import {
  slugify, type Collection, type CollectionCreate, type CollectionList, type CollectionMappings, type CollectionMappingsUpdate,
  type CollectionPatch,
} from '@/lib/collections/schemas';
import type { Tx } from '@/lib/db';

/** The merchant's collections in display order, with how many products each holds. */
export async function listCollections(tx: Tx, userId: string): Promise<CollectionList> {
  const rows = await tx<Collection[]>`
    select c.slug, c.name, c.position,
           (select count(*)::int from public.product_collections p where p.user_id = c.user_id and p.collection = c.slug) as products
      from public.collections c
     where c.user_id = ${userId}
     order by c.position, c.name, c.slug`;
  return { collections: rows };
}

async function findCollection(tx: Tx, userId: string, slug: string): Promise<Collection> {
  const { collections } = await listCollections(tx, userId);
  const found = collections.find((c) => c.slug === slug);
  if (!found) throw new AppError('not_found', 'Collection not found');
  return found;
}

/** Create a collection at the end of the list; its slug is made from the name unless given. */
export async function createCollection(tx: Tx, userId: string, input: CollectionCreate): Promise<Collection> {
  const slug = input.slug ?? slugify(input.name);
  if (!slug) throw new AppError('bad_request', 'Give the collection a name with letters or digits, or a slug', { field: 'slug' });
  const [row] = await tx<{ slug: string }[]>`
    insert into public.collections (user_id, slug, name, position)
    select ${userId}, ${slug}, ${input.name},
           coalesce((select max(position) + 1 from public.collections where user_id = ${userId}), 0)
    on conflict (user_id, slug) do nothing
    returning slug`;
  if (!row) throw new AppError('conflict', `A collection with the slug "${slug}" already exists`, { field: 'slug' });
  return findCollection(tx, userId, slug);
}

/** Rename or move a collection; its slug (what events and scores carry) stays. */
export async function updateCollection(tx: Tx, userId: string, slug: string, patch: CollectionPatch): Promise<Collection> {
  const changes: { name?: string; position?: number } = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.position !== undefined) changes.position = patch.position;
  const rows = await tx`update public.collections set ${tx(changes)} where user_id = ${userId} and slug = ${slug} returning slug`;
  if (rows.length === 0) throw new AppError('not_found', 'Collection not found');
  return findCollection(tx, userId, slug);
}

/**
 * Remove a collection. Its product mappings and every customer's score for it go with it (SQL
 * triggers); coupons and segments that named only this collection are paused rather than
 * widened to everything.
 */
export async function deleteCollection(tx: Tx, userId: string, slug: string): Promise<{ deleted: string }> {
  const rows = await tx`delete from public.collections where user_id = ${userId} and slug = ${slug} returning slug`;
  if (rows.length === 0) throw new AppError('not_found', 'Collection not found');
  return { deleted: slug };
}

/** Slugs among `slugs` that are not the merchant's collections, for field-named 400s. */
export async function unknownCollections(tx: Tx, userId: string, slugs: readonly string[]): Promise<string[]> {
  if (slugs.length === 0) return [];
  const rows = await tx<{ slug: string }[]>`
    select s.slug from unnest(${[...new Set(slugs)]}::text[]) as s(slug)
     where not exists (select 1 from public.collections c where c.user_id = ${userId} and c.slug = s.slug)
     order by s.slug`;
  return rows.map((r) => r.slug);
}

/** Refuse slugs the merchant does not have, naming the field and the first unknown one. */
export async function assertCollections(tx: Tx, userId: string, slugs: readonly string[] | undefined, field: string): Promise<void> {
  const unknown = await unknownCollections(tx, userId, slugs ?? []);
  if (unknown.length > 0) throw new AppError('bad_request', `There is no collection "${unknown[0]}"`, { field });
}

export async function getCollectionMappings(tx: Tx, userId: string): Promise<CollectionMappings> {
  const mappings = await tx<CollectionMappings['mappings']>`
    select product_id, collection from public.product_collections where user_id = ${userId} order by product_id`;
  return { mappings };
}

/** Replace the whole map in one transaction (set-based: one delete, one insert). */
export async function putCollectionMappings(tx: Tx, userId: string, input: CollectionMappingsUpdate): Promise<CollectionMappings> {
  await assertCollections(tx, userId, input.mappings.map((m) => m.collection), 'mappings');
  await tx`delete from public.product_collections where user_id = ${userId}`;
  if (input.mappings.length > 0) {
    await tx`
      insert into public.product_collections (user_id, product_id, collection)
      select ${userId}, m.product_id, m.collection
        from unnest(${input.mappings.map((m) => m.productId)}::text[], ${input.mappings.map((m) => m.collection)}::text[])
          as m(product_id, collection)`;
  }
  return getCollectionMappings(tx, userId);
}

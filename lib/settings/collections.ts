import type { Tx } from '@/lib/db';
import type { CollectionMappings, CollectionMappingsUpdate } from '@/lib/settings/schemas';

export async function getCollectionMappings(tx: Tx, userId: string): Promise<CollectionMappings> {
  const rows = await tx<{ product_id: string; collection: CollectionMappings['mappings'][number]['collection'] }[]>`
    select product_id, collection from public.product_collections where user_id = ${userId} order by product_id`;
  return { mappings: rows.map((r) => ({ productId: r.product_id, collection: r.collection })) };
}

/** Replace the whole map in one transaction (set-based: one delete, one insert). */
export async function putCollectionMappings(tx: Tx, userId: string, input: CollectionMappingsUpdate): Promise<CollectionMappings> {
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

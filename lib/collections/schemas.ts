import { z } from 'zod';
import { text } from '@/lib/fields';

/**
 * A collection of the merchant's catalogue, named by a slug that events, orders and affinity
 * scores carry (it never changes) and a name the dashboard shows (it can be renamed).
 */
export const collectionSlug = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'Use up to 40 lower-case letters, digits and dashes');

export const collectionNameField = text({ max: 80, required: 'Name is required' });

export const collectionSchema = z.object({
  slug: z.string(),
  name: z.string(),
  position: z.number().int(),
  /** How many products are mapped to it. */
  products: z.number().int(),
});
export type Collection = z.infer<typeof collectionSchema>;

export const collectionListSchema = z.object({ collections: z.array(collectionSchema) });
export type CollectionList = z.infer<typeof collectionListSchema>;

/** POST /api/collections: a name, and a slug (made from the name when left out). */
export const collectionCreate = z.object({
  name: collectionNameField,
  slug: collectionSlug.optional(),
});
export type CollectionCreate = z.infer<typeof collectionCreate>;

/** PATCH /api/collections/[slug]: rename or move; the slug stays. */
export const collectionPatch = z
  .object({ name: collectionNameField.optional(), position: z.number().int().min(0).max(10_000).optional() })
  .refine((v) => v.name !== undefined || v.position !== undefined, { message: 'Send a name or a position' });
export type CollectionPatch = z.infer<typeof collectionPatch>;

/** The slug a name gives: "Self Care & Rituals" -> "self-care-rituals". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
}

/** PUT /api/collections/products: the full product -> collection map (replaces the old one). */
export const collectionMappingsUpdate = z.object({
  mappings: z
    .array(
      z.object({
        productId: text({ max: 64, required: 'Product id is required' }),
        collection: collectionSlug,
      }),
    )
    .max(5000, 'At most 5,000 products')
    .refine((m) => new Set(m.map((x) => x.productId)).size === m.length, { message: 'Each product may appear once' }),
});
export type CollectionMappingsUpdate = z.infer<typeof collectionMappingsUpdate>;

export const collectionMappingsSchema = z.object({ mappings: z.array(z.object({ productId: z.string(), collection: z.string() })) });
export type CollectionMappings = z.infer<typeof collectionMappingsSchema>;

/** The name to show for a slug (the slug itself for one that has been removed). */
export function collectionName(collections: readonly Pick<Collection, 'slug' | 'name'>[] | undefined, slug: string): string {
  return collections?.find((c) => c.slug === slug)?.name ?? slug;
}

import { corsPreflight, withCors } from '@/lib/api/cors';
import { json, withPublic } from '@/lib/api/handler';
import { ingestEvents, trackEnvelopeSchema } from '@/lib/intake/track';

// POST /api/track {key, events[]} from a storefront: up to 500 events, all or nothing.
export const POST = withCors(
  withPublic(
    { body: trackEnvelopeSchema },
    {
      crossOrigin: true,
      rateLimits: [
        { name: 'track-ip', limit: 1200, windowSeconds: 60 },
        { name: 'track-key', limit: 600, windowSeconds: 60, subject: (body) => body.key },
      ],
    },
    async ({ tx, body }) => json(await ingestEvents(tx, body.key, body.events), 202),
  ),
);

export function OPTIONS(): Response {
  return corsPreflight();
}

import { QueryClient } from '@tanstack/react-query';
import { ApiError } from '@/lib/api-client';

/** The one QueryClient factory: no retries on 4xx (the answer will not change), one on others. */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 1,
      },
      mutations: { retry: false },
    },
  });
}

/** Query keys from one place, so invalidations cannot drift from the queries they target. */
export const queryKeys = {
  session: ['session'] as const,
  integrations: ['settings', 'integrations'] as const,
};

'use client';

import { ErrorState } from '@/components/ui/error-state';

// Shown when a dashboard page throws while rendering; the digest helps match server logs.
export default function DashboardError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="mx-auto max-w-3xl p-6">
      <ErrorState
        title="This page could not load"
        message={error.digest ? `Please try again. (Reference ${error.digest})` : 'Please try again.'}
        onRetry={reset}
      />
    </div>
  );
}

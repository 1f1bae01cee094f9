import type { Metadata } from 'next';
import { PageContainer } from '@/components/layout/page-container';
import { SegmentsManager } from '@/components/segments/segments-manager';

export const metadata: Metadata = { title: 'Segments' };

export default function SegmentsPage() {
  return (
    <PageContainer title="Segments" description="Groups of customers you can target, export and watch over time.">
      <SegmentsManager />
    </PageContainer>
  );
}

import type { Metadata } from 'next';
import { PageContainer } from '@/components/layout/page-container';
import { CohortsCard } from '@/components/overview/cohorts';
import { JourneyOverview } from '@/components/overview/journey-overview';
import { SetupChecklist } from '@/components/overview/setup-checklist';
import { TrendsCard } from '@/components/overview/trends';

export const metadata: Metadata = { title: 'Overview' };

export default function OverviewPage() {
  return (
    <PageContainer title="Overview" description="How your customers move from first visit to loyal fan.">
      <JourneyOverview />
      <TrendsCard />
      <CohortsCard />
      <SetupChecklist />
    </PageContainer>
  );
}

import type { Metadata } from 'next';
import { PageContainer } from '@/components/layout/page-container';
import { CollectionMapping } from '@/components/settings/collection-mapping';
import { CollectionsEditor } from '@/components/settings/collections-editor';
import { IntegrationsForm } from '@/components/settings/integrations-form';
import { PrivacyRequestsCard } from '@/components/settings/privacy-requests';
import { ScheduledJobsCard } from '@/components/settings/scheduled-jobs';
import { StoreSettingsCard } from '@/components/settings/store-settings';

export const metadata: Metadata = { title: 'Settings' };

export default function SettingsPage() {
  return (
    <PageContainer title="Settings" description="Connect your shop and email provider. Secrets are stored encrypted and never shown again.">
      <IntegrationsForm />
      <StoreSettingsCard />
      <CollectionsEditor />
      <CollectionMapping />
      <PrivacyRequestsCard />
      <ScheduledJobsCard />
    </PageContainer>
  );
}

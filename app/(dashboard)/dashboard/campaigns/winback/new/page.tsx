import type { Metadata } from 'next';
import { NewCampaign } from '@/components/winback/campaign-form';

export const metadata: Metadata = { title: 'New win-back campaign' };

export default function NewCampaignPage() {
  return <NewCampaign />;
}

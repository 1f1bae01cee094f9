import type { Metadata } from 'next';
import { CampaignList } from '@/components/winback/campaign-list';

export const metadata: Metadata = { title: 'Win-back campaigns' };

export default function WinbackPage() {
  return <CampaignList />;
}

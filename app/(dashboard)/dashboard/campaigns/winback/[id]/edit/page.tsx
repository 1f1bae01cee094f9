import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { EditCampaign } from '@/components/winback/campaign-form';

export const metadata: Metadata = { title: 'Edit win-back campaign' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function EditCampaignPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!UUID.test(id)) notFound();
  return <EditCampaign id={id} />;
}

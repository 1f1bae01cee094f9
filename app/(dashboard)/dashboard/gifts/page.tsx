import type { Metadata } from 'next';
import { GiftsPage } from '@/components/gifts/gifts-page';

export const metadata: Metadata = { title: 'Gifts' };

export default function Gifts() {
  return <GiftsPage />;
}

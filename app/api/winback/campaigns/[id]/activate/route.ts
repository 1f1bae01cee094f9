import { transitionRoute } from '@/lib/winback/routes';

export const POST = transitionRoute('activate');

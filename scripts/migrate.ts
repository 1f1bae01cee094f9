/** `npm run db:migrate`: apply pending migrations to DATABASE_URL. */
import { migrate } from '@/lib/db/migrate';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(1);
}
const applied = await migrate(url, { log: (l) => console.log(l) });
console.log(applied.length ? `applied ${applied.length} migration(s)` : 'nothing to apply');

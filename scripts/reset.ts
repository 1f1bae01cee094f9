/**
 * `npm run db:reset`: delete the embedded development database and its generated secrets
 * (DATA_DIR, default .data/) so the next `npm run dev` migrates and seeds afresh. Refuses when
 * DATABASE_URL is set: a database you provide is never dropped by this script.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';

if (process.env.DATABASE_URL) {
  console.error('DATABASE_URL is set: db:reset only deletes the embedded database in DATA_DIR. Reset your own database yourself.');
  process.exit(1);
}
const dataDir = path.resolve(process.env.DATA_DIR || '.data');
if (dataDir === path.resolve('.') || dataDir === path.parse(dataDir).root) {
  console.error(`Refusing to delete ${dataDir}`);
  process.exit(1);
}
await rm(dataDir, { recursive: true, force: true });
console.log(`deleted ${dataDir}; the next \`npm run dev\` creates the database and the demo merchant again`);

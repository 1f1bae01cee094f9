/** `npm run db:seed`: create the demo merchant and its data in DATABASE_URL (idempotent). */
import { connect } from '@/lib/db';
import { DEMO_GIFT_RECIPIENT } from '@/lib/demo/gifts';
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from '@/lib/demo/seed';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(1);
}
const sql = connect(url, 2);
try {
  const demo = await seedDemo(sql);
  console.log(!demo ? 'auth.users is not the local shim: no demo merchant created' : `${demo.created ? 'created' : 'already present'}: ${DEMO_EMAIL} / ${DEMO_PASSWORD}`);
  if (demo?.giftClaimPath) console.log(`a demo gift to claim: ${process.env.APP_URL ?? 'http://localhost:3000'}${demo.giftClaimPath} (with ${DEMO_GIFT_RECIPIENT})`);
} finally {
  await sql.end();
}

import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { closeDb, connect } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { withDatabase } from '@/scripts/embedded-postgres';

// Each test file gets its own database, copied from the migrated template.
const adminUrl = inject('adminDatabaseUrl');
const template = inject('templateDatabase');
const name = `hh_test_${randomBytes(6).toString('hex')}`;

const admin = connect(adminUrl, 1);
await admin.unsafe(`create database ${name} template ${template}`);

process.env.DATABASE_URL = withDatabase(adminUrl, name);
process.env.AUTH_SECRET = 'test-auth-secret-0123456789abcdef0123456789';
process.env.APP_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
process.env.CRON_SECRET = 'test-cron-secret-0123456789';
delete process.env.NEXT_PUBLIC_SUPABASE_URL;
reloadEnv();

afterAll(async () => {
  await closeDb();
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

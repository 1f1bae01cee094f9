import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Secrets the embedded default generates once and keeps in DATA_DIR. */
export interface LocalSecrets {
  AUTH_SECRET: string;
  APP_ENCRYPTION_KEY: string;
  CRON_SECRET: string;
}

/**
 * Values from the environment win; anything missing is generated once into
 * `<dataDir>/secrets.json` (mode 600) so sessions and stored secrets survive restarts.
 */
export async function loadLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  const file = path.join(dataDir, 'secrets.json');
  let stored: Partial<LocalSecrets> = {};
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<LocalSecrets>;
  } catch {
    stored = {};
  }
  const generated: LocalSecrets = {
    AUTH_SECRET: stored.AUTH_SECRET ?? randomBytes(32).toString('base64url'),
    APP_ENCRYPTION_KEY: stored.APP_ENCRYPTION_KEY ?? randomBytes(32).toString('base64'),
    CRON_SECRET: stored.CRON_SECRET ?? randomBytes(24).toString('base64url'),
  };
  if (JSON.stringify(stored) !== JSON.stringify(generated)) {
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600 });
  }
  return {
    AUTH_SECRET: process.env.AUTH_SECRET || generated.AUTH_SECRET,
    APP_ENCRYPTION_KEY: process.env.APP_ENCRYPTION_KEY || generated.APP_ENCRYPTION_KEY,
    CRON_SECRET: process.env.CRON_SECRET || generated.CRON_SECRET,
  };
}

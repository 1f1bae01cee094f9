import path from 'node:path';
import { defineConfig } from 'vitest/config';

const root = path.dirname(new URL(import.meta.url).pathname);

// Browser tests: a production build served by `npm start` (scripts/start.ts), driven through Debian's chromium.
export default defineConfig({
  // `server-only` throws outside Next's react-server build; the setup here is server code.
  resolve: { alias: { '@': root, 'server-only': path.join(root, 'tests/setup/server-only-stub.ts') } },
  test: {
    include: ['tests/browser/**/*.browser.test.ts'],
    globalSetup: ['tests/browser/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});

// The real-VS-Code tests (`npm run test:e2e`): one code-server + Chromium per test file, files run
// one after another (each launch is heavy; CI has 2 cores). Not part of `npm run test:unit`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import SummaryLineReporter from './summaryReporter';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/e2e/globalSetup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 240_000,
    // No `retry`: a failed assertion is a failure. Start-up flakes are retried in harness.ts (launch).
    reporters: ['default', new SummaryLineReporter()],
  },
});

// The real-client tests (`npm run test:clients`): Claude Code, Codex CLI, Gemini CLI and opencode run
// against `quota-pilot serve --simulate demo`. One file, tests one after another (each client start is
// heavy; CI has 2 cores). Not part of `npm run test:unit`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/clients/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/clients/globalSetup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});

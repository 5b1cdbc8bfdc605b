import type { ScenarioInput } from '../scenario';

/** Three accounts and several fault kinds switched on at moderate rates (seeded, so reproducible). */
export const faultyScenario: ScenarioInput = {
  name: 'faulty',
  description:
    'Several fault kinds on: 429 variants, 503, 500, resets mid-stream, malformed JSON, expired tokens.',
  seed: 7,
  latency: { firstByteMs: 50, chunkGapMs: 20, chunks: 4 },
  accounts: [
    {
      id: 'pro-a',
      email: 'pro.a@example.com',
      tier: 'PRO',
      refreshToken: 'sim-refresh-faulty-a',
      remaining: { claude: 0.6 },
    },
    {
      id: 'free-b',
      email: 'free.b@example.com',
      tier: 'FREE',
      refreshToken: 'sim-refresh-faulty-b',
      remaining: { claude: 0.04, 'gemini-pro': 0.3 },
    },
    {
      id: 'verify-c',
      email: 'verify.c@example.com',
      tier: 'FREE',
      refreshToken: 'sim-refresh-faulty-c',
      validationRequired: { url: 'https://accounts.google.com/signin/continue?sarp=1&scc=1' },
    },
  ],
  faults: [
    { kind: 'quota-exhausted-info-second', rate: 0.05 },
    { kind: 'rate-limited', rate: 0.08, retryDelayMs: 1500 },
    { kind: 'resource-exhausted-bare', rate: 0.04 },
    { kind: 'model-capacity', rate: 0.05, retryDelayMs: 4000 },
    { kind: 'no-capacity', rate: 0.04 },
    { kind: 'server-error', rate: 0.03 },
    { kind: 'token-expired', rate: 0.02 },
    { kind: 'connection-reset', rate: 0.03 },
    { kind: 'malformed-json', rate: 0.02 },
    { kind: 'models-stuck-full', account: 'pro-a' },
  ],
};

import type { ScenarioInput } from '../scenario';

/** Four accounts — Ultra, Pro and two free ones, one of them low on Claude — with streaming latency. */
export const demoScenario: ScenarioInput = {
  name: 'demo',
  description: 'Four accounts (Ultra, Pro, two free — one low on Claude) with realistic streaming latency.',
  seed: 42,
  latency: { firstByteMs: 300, chunkGapMs: 60, chunks: 8 },
  accounts: [
    {
      id: 'ultra',
      email: 'ada.ultra@example.com',
      name: 'Ada Ultra',
      tier: 'ULTRA',
      refreshToken: 'sim-refresh-ultra-0001',
      project: 'sim-ultra-project',
      remaining: { claude: 0.82, 'gemini-pro': { '5h': 0.9, weekly: 0.64 } },
      windowPhaseMs: { '5h': 3_600_000, weekly: 86_400_000 },
    },
    {
      id: 'pro',
      email: 'ben.pro@example.com',
      name: 'Ben Pro',
      tier: 'PRO',
      refreshToken: 'sim-refresh-pro-0002',
      project: 'sim-pro-project',
      remaining: { claude: 0.45, 'gemini-pro': 0.7, 'gemini-flash': 0.95 },
      windowPhaseMs: { '5h': 7_200_000, weekly: 2 * 86_400_000 },
    },
    {
      id: 'free-1',
      email: 'cy.free@example.com',
      name: 'Cy Free',
      tier: 'FREE',
      refreshToken: 'sim-refresh-free-0003',
      project: 'sim-free-project-1',
      remaining: { claude: { '5h': 0.08, weekly: 0.3 }, 'gemini-pro': 0.5 },
      windowPhaseMs: { '5h': 10_800_000, weekly: 3 * 86_400_000 },
    },
    {
      id: 'free-2',
      email: 'dee.free@example.com',
      name: 'Dee Free',
      tier: 'FREE',
      refreshToken: 'sim-refresh-free-0004',
      project: 'needs-onboarding',
      remaining: { 'gemini-flash': 0.6 },
      windowPhaseMs: { '5h': 14_400_000, weekly: 4 * 86_400_000 },
    },
  ],
};

import { mulberry32 } from '../prng';
import type { ScenarioInput } from '../scenario';

const POOLS = ['claude', 'gpt-oss', 'gemini-pro', 'gemini-flash', 'gemini-image'] as const;

/** 100 accounts generated from a fixed seed: mixed tiers, random remaining fractions and window phases. */
export function stressScenario(count = 100, seed = 1234): ScenarioInput {
  const rand = mulberry32(seed);
  const accounts: NonNullable<ScenarioInput['accounts']> = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    const tier = r < 0.1 ? 'ULTRA' : r < 0.4 ? 'PRO' : 'FREE';
    const n = String(i + 1).padStart(3, '0');
    const remaining: Record<string, { '5h': number; weekly: number }> = {};
    for (const pool of POOLS) {
      remaining[pool] = { '5h': round2(rand()), weekly: round2(0.2 + 0.8 * rand()) };
    }
    accounts.push({
      id: `acct-${n}`,
      email: `user${n}@example.com`,
      tier,
      refreshToken: `sim-refresh-stress-${n}`,
      remaining,
      windowPhaseMs: {
        '5h': Math.floor(rand() * 5) * 3_600_000,
        weekly: Math.floor(rand() * 7) * 86_400_000,
      },
    });
  }
  return {
    name: 'stress',
    description: `${count} accounts generated deterministically (seed ${seed}), no latency.`,
    seed,
    latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 3 },
    accounts,
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

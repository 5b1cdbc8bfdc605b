/**
 * The 429 study's scenarios: accounts (for the simulator's quota model), a deterministic request
 * stream over 14 simulated days, and the upstream trouble to inject. Same seed, same workload for
 * every policy.
 */
import { mulberry32 } from '../../src/simulator/prng';
import type { ScenarioInput } from '../../src/simulator/scenario';

export const START = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const DAYS = 14;

export const CLAUDE = 'claude-sonnet-4-6';
export const FLASH = 'gemini-3-flash';

export interface Req {
  at: number;
  session: string;
  model: string;
}

export interface StudyScenario {
  name: string;
  description: string;
  sim: ScenarioInput;
  requests: Req[];
  /** Share of generation calls answered "model capacity exhausted" (any account) in [from, until). */
  capacity?: { from: number; until: number; rate: number };
  /** The quota API (not generation) answers 503 in [from, until). */
  quotaOutage?: { from: number; until: number };
}

type Tier = 'FREE' | 'PRO' | 'ULTRA';

export function simAccounts(tiers: readonly Tier[], seed: number): ScenarioInput {
  const rand = mulberry32(seed);
  return {
    name: 'study',
    seed,
    accounts: tiers.map((tier, i) => ({
      id: `acct-${String(i + 1).padStart(2, '0')}`,
      email: `user${i + 1}@example.com`,
      tier,
      refreshToken: `study-refresh-${String(i + 1).padStart(4, '0')}`,
      project: `proj-study-${i + 1}`,
      windowPhaseMs: {
        '5h': Math.floor(rand() * 5) * HOUR,
        weekly: Math.floor(rand() * 7) * DAY,
      },
    })),
  };
}

/**
 * A developer's bursty working days: on weekdays 9:00–19:00, 4–8 sessions, each a burst of 15–90
 * requests 10–90 s apart; weekends a third as busy. 85% Claude, 15% Gemini Flash.
 */
export function developerDays(seed: number, scale: number): Req[] {
  const rand = mulberry32(seed);
  const out: Req[] = [];
  let sessionNo = 0;
  for (let d = 0; d < DAYS; d++) {
    const weekend = d % 7 >= 5;
    const sessions = Math.round((4 + Math.floor(rand() * 5)) * scale * (weekend ? 0.33 : 1));
    for (let s = 0; s < sessions; s++) {
      const session = `dev-${sessionNo++}`;
      let t = START + d * DAY + 9 * HOUR + Math.floor(rand() * 10 * HOUR);
      const burst = 15 + Math.floor(rand() * 76);
      const model = rand() < 0.85 ? CLAUDE : FLASH;
      for (let k = 0; k < burst; k++) {
        out.push({ at: t, session, model });
        t += 10_000 + Math.floor(rand() * 80_000);
      }
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Parallel coding agents: each runs sessions of 1–3 h, a request every 30–120 s, around the clock. */
function parallelAgents(seed: number, agents: number): Req[] {
  const rand = mulberry32(seed);
  const out: Req[] = [];
  let sessionNo = 0;
  for (let a = 0; a < agents; a++) {
    let t = START + Math.floor(rand() * HOUR);
    while (t < START + DAYS * DAY) {
      const session = `agent-${a}-${sessionNo++}`;
      const end = t + HOUR + Math.floor(rand() * 2 * HOUR);
      const model = rand() < 0.7 ? CLAUDE : FLASH;
      while (t < end) {
        out.push({ at: t, session, model });
        t += 30_000 + Math.floor(rand() * 90_000);
      }
      t += Math.floor(rand() * 4 * HOUR); // idle between sessions
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

export function studyScenarios(seed = 42): StudyScenario[] {
  const mixed: Tier[] = ['ULTRA', 'PRO', 'PRO', 'FREE', 'FREE'];
  const dev = developerDays(seed, 2.5);
  return [
    {
      name: 'mixed-5-bursty',
      description: '5 accounts (1 Ultra, 2 Pro, 2 Free), a developer’s bursty days',
      sim: simAccounts(mixed, seed),
      requests: dev,
    },
    {
      name: 'free-20-agents',
      description: '20 Free accounts, 6 parallel agents around the clock',
      sim: simAccounts(
        Array.from({ length: 20 }, () => 'FREE' as const),
        seed + 1,
      ),
      requests: parallelAgents(seed + 1, 6),
    },
    {
      name: 'capacity-day',
      description: 'as mixed-5-bursty, day 3 answers 30% of calls "model capacity exhausted"',
      sim: simAccounts(mixed, seed),
      requests: dev,
      capacity: { from: START + 2 * DAY, until: START + 3 * DAY, rate: 0.3 },
    },
    {
      name: 'quota-api-down-6h',
      description: 'as mixed-5-bursty, the quota API is down 08:00–14:00 on day 2',
      sim: simAccounts(mixed, seed),
      requests: dev,
      quotaOutage: { from: START + 1 * DAY + 8 * HOUR, until: START + 1 * DAY + 14 * HOUR },
    },
  ];
}

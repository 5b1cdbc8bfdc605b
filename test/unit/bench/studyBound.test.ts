import { describe, expect, it } from 'vitest';
import { POLICIES, offlineOptimum, runStudy } from '../../../bench/study/study';
import { CLAUDE, HOUR, START, simAccounts } from '../../../bench/study/workload';
import type { StudyScenario } from '../../../bench/study/workload';
import { wireScenario } from '../../../bench/study/wire';

describe('429 study: offline optimum', () => {
  it('bounds what every policy serves, and is below demand when quota runs out', async () => {
    const scenario = wireScenario();
    const bound = offlineOptimum(scenario);
    expect(bound).toBeLessThan(scenario.requests.length);
    for (const policy of POLICIES) {
      const row = await runStudy(scenario, policy);
      expect(row.served, policy).toBeLessThanOrEqual(bound);
    }
  });

  it('does not let a later window serve demand that arrived before it opened', () => {
    // One account; the same demand all at once versus spread one request per hour over 2 days.
    const sim = simAccounts(['FREE'], 1);
    const burst: StudyScenario = {
      name: 'burst',
      description: 'all at the start',
      sim,
      requests: Array.from({ length: 2000 }, (_, i) => ({ at: START + i, session: 's', model: CLAUDE })),
    };
    const spread: StudyScenario = {
      ...burst,
      name: 'spread',
      requests: Array.from({ length: 48 }, (_, i) => ({ at: START + i * HOUR, session: 's', model: CLAUDE })),
    };
    const burstBound = offlineOptimum(burst);
    // A burst at one instant only ever meets one 5h window of the account.
    expect(burstBound).toBeLessThan(2000);
    expect(offlineOptimum({ ...burst, requests: [...burst.requests, ...burst.requests] })).toBe(burstBound);
    expect(offlineOptimum(spread)).toBeLessThanOrEqual(48);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors';
import { effectiveCapacities, parseScenario } from '../../../src/simulator/scenario';
import { BUILTIN_SCENARIOS, loadScenario } from '../../../src/simulator/scenarios';
import { stressScenario } from '../../../src/simulator/scenarios/stress';

const minimal = {
  accounts: [{ id: 'a', email: 'a@example.com', tier: 'FREE', refreshToken: 'refresh-aaaa' }],
};

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('scenario validation', () => {
  it('fills defaults for a minimal scenario', () => {
    const s = parseScenario(minimal);
    expect(s.oauth).toEqual({
      clientId: 'sim-client-id',
      clientSecret: 'sim-client-secret',
      accessTokenLifetimeSec: 3600,
    });
    expect(s.cost).toEqual({ unit: 'requests', perRequest: 1 });
    expect(s.latency).toEqual({ firstByteMs: 0, chunkGapMs: 0, chunks: 3 });
    expect(s.faults).toEqual([]);
    expect(s.accounts[0]?.windowPhaseMs).toEqual({ '5h': 0, weekly: 0 });
    expect(effectiveCapacities(s).FREE.claude).toEqual({ '5h': 20, weekly: 100 });
  });

  it('names the path and what is wrong', () => {
    const msg = message(() =>
      parseScenario({
        accounts: [
          {
            id: 'a',
            email: 'not-an-email',
            tier: 'GOLD',
            refreshToken: 'x',
            remaining: { claude: 1.5, bogus: 1 },
          },
        ],
        faults: [{ kind: 'explode' }],
        latency: { chunks: 0 },
      }),
    );
    expect(msg).toContain('accounts.0.email: not an email address');
    expect(msg).toContain('accounts.0.tier: tier must be "FREE", "PRO" or "ULTRA"');
    expect(msg).toContain('accounts.0.refreshToken: refresh tokens are at least 8 characters');
    expect(msg).toContain('accounts.0.remaining.claude');
    expect(msg).toContain('accounts.0.remaining: Unrecognized key: "bogus"');
    expect(msg).toContain('faults.0.kind: fault kind must be one of:');
    expect(msg).toContain('latency.chunks');
  });

  it('rejects unknown keys, an empty account list and duplicates', () => {
    expect(message(() => parseScenario({ ...minimal, acounts: [] }))).toContain('acounts');
    expect(message(() => parseScenario({ accounts: [] }))).toContain(
      'accounts: a scenario needs at least one account',
    );
    const dup = message(() =>
      parseScenario({
        accounts: [
          { id: 'a', email: 'a@example.com', tier: 'FREE', refreshToken: 'refresh-aaaa' },
          { id: 'a', email: 'A@example.com', tier: 'PRO', refreshToken: 'refresh-aaaa' },
        ],
      }),
    );
    expect(dup).toContain('accounts.1.id: duplicate id');
    expect(dup).toContain('accounts.1.email: duplicate email');
    expect(dup).toContain('accounts.1.refreshToken: duplicate refreshToken');
  });

  it('scales default capacities for token costs', () => {
    const s = parseScenario({ ...minimal, cost: { unit: 'tokens' } });
    expect(effectiveCapacities(s).PRO['gemini-flash']).toEqual({ '5h': 5_000_000, weekly: 25_000_000 });
  });
});

describe('built-in scenarios', () => {
  it('are all valid', () => {
    for (const name of Object.keys(BUILTIN_SCENARIOS)) expect(loadScenario(name).name).toBe(name);
  });

  it('demo has Ultra, Pro and two free accounts, one free low on Claude', () => {
    const s = loadScenario('demo');
    expect(s.accounts.map((a) => a.tier)).toEqual(['ULTRA', 'PRO', 'FREE', 'FREE']);
    const low = s.accounts.find((a) => a.tier === 'FREE' && typeof a.remaining.claude === 'object');
    expect(low?.remaining.claude).toEqual({ '5h': 0.08, weekly: 0.3 });
  });

  it('stress has 100 accounts, generated deterministically', () => {
    const s = loadScenario('stress');
    expect(s.accounts).toHaveLength(100);
    expect(stressScenario()).toEqual(stressScenario());
    expect(new Set(s.accounts.map((a) => a.tier))).toEqual(new Set(['FREE', 'PRO', 'ULTRA']));
  });

  it('the shipped example.json validates and uses every section', () => {
    const s = loadScenario(join(__dirname, '../../../src/simulator/scenarios/example.json'));
    expect(s.name).toBe('example');
    expect(s.accounts.map((a) => a.project)).toEqual(['example-project', 'needs-onboarding', undefined]);
    expect(s.faults).toHaveLength(3);
  });

  it('faulty turns several fault kinds on', () => {
    expect(new Set(loadScenario('faulty').faults.map((f) => f.kind)).size).toBeGreaterThanOrEqual(5);
  });
});

describe('loadScenario from files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qp-scenario-'));

  it('loads a JSON file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ name: 'mine', ...minimal }));
    expect(loadScenario(file).name).toBe('mine');
  });

  it('says what is wrong with a missing file, bad JSON or a bad scenario', () => {
    expect(message(() => loadScenario(join(dir, 'missing.json')))).toMatch(
      /neither a built-in scenario \(demo, stress, faulty\) nor a readable file \(ENOENT\)/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(message(() => loadScenario(bad))).toContain('is not valid JSON');
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ accounts: [{ id: 'a' }] }));
    expect(message(() => loadScenario(invalid))).toContain(
      `scenario file ${invalid} is not a valid simulator scenario: accounts.0.email`,
    );
  });
});

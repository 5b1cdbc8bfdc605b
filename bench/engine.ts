/**
 * Quota engine micro-benchmarks: check() on a cache hit against a plain Map lookup in the same run,
 * the synchronous decide(), and ranking 10 / 100 / 1,000 accounts.
 */
import { VirtualClock } from '../src/core/clock';
import { rankAccounts } from '../src/core/prioritizer';
import type { RankCandidate } from '../src/core/prioritizer';
import type { QuotaProvider } from '../src/core/provider';
import { QuotaManager } from '../src/core/quotaManager';
import type { Account, QuotaReport, Tier } from '../src/core/types';
import { consume } from './harness';
import type { BenchSuite } from './harness';

const MODEL = 'claude-sonnet-4-6';
const HOUR = 3_600_000;
const TIERS: Tier[] = ['FREE', 'PRO', 'ULTRA', 'UNKNOWN'];

function account(i: number): Account {
  return {
    id: `acct-${String(i).padStart(4, '0')}`,
    email: `user${i}@example.com`,
    label: `user${i}`,
    tier: TIERS[i % TIERS.length] as Tier,
    status: { kind: 'active' },
  };
}

/** A provider that answers at once from a deterministic table (no I/O; the bench times the engine). */
function staticProvider(clock: VirtualClock): QuotaProvider {
  return {
    async fetchQuotas(a: Account): Promise<QuotaReport> {
      const n = Number(a.id.slice(5));
      const now = clock.now();
      return {
        accountId: a.id,
        fetchedAt: now,
        models: [
          {
            model: MODEL,
            remainingFraction: ((n * 37) % 100) / 100,
            resetTime: now + ((n % 48) + 1) * HOUR,
            source: 'models',
            fetchedAt: now,
          },
          {
            model: MODEL,
            remainingFraction: 0.9,
            resetTime: now + 100 * HOUR,
            source: 'bucket-weekly',
            fetchedAt: now,
          },
        ],
        buckets: [],
      };
    },
    async fetchTier() {
      return { tier: 'PRO' };
    },
  };
}

export const engineSuite: BenchSuite = {
  name: 'engine',
  async run(bench) {
    const clock = new VirtualClock();
    const manager = new QuotaManager({ clock, provider: staticProvider(clock), ttlMs: 10 * 365 * 24 * HOUR });
    const accounts = Array.from({ length: 1_000 }, (_, i) => account(i));
    for (const a of accounts) await manager.refresh(a);
    const a0 = accounts[7] as Account;

    // Baseline: the cheapest possible "cached quota" read, a Map lookup by composite key.
    const plain = new Map<string, number>();
    for (const a of accounts) plain.set(`${a.id}|${MODEL}`, 0.5);
    const key = `${a0.id}|${MODEL}`;
    bench.run('baseline: Map.get', () => plain.get(key), {
      iterations: 20_000,
      batch: 100,
      note: 'plain Map lookup, same run',
    });
    bench.run('decide() cache hit', () => manager.decide(a0, MODEL), {
      iterations: 20_000,
      batch: 100,
      note: 'sync hot path, builds Decision + reason',
    });
    await bench.runAsync('check() cache hit', () => manager.check(a0, MODEL), {
      iterations: 50_000,
      note: 'async, fresh entry, awaited one by one',
    });

    for (const n of [10, 100, 1_000]) {
      const now = clock.now();
      const candidates: RankCandidate[] = accounts.slice(0, n).map((a, i) => ({
        account: a,
        decision: manager.decide(a, MODEL),
        reservedFraction: (i % 5) * 0.01,
        failures: i % 11 === 0 ? [now - 60_000] : undefined,
      }));
      const usable = rankAccounts(candidates, MODEL, now).length;
      bench.run(`rank ${n} accounts`, () => rankAccounts(candidates, MODEL, now), {
        iterations: n >= 1_000 ? 2_000 : 10_000,
        note: `${usable} usable, full reasons`,
      });
      bench.run(`rank ${n} accounts, top 3`, () => rankAccounts(candidates, MODEL, now, { limit: 3 }), {
        iterations: n >= 1_000 ? 2_000 : 10_000,
        note: 'limit: 3 (what the pool asks for)',
      });
    }
    consume(manager.cache.stats());
  },
};

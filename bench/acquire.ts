/**
 * Pool micro-benchmarks: acquire() + release() over 10, 100 and 1,000 accounts (real registry,
 * quota manager, ledger and prioritizer; cache warm), with and without a session binding, and the
 * heap the engine holds for 1,000 accounts × 40 models with a week of usage history.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AccountRegistry } from '../src/core/accountRegistry';
import { VirtualClock } from '../src/core/clock';
import { UsageLedger } from '../src/core/ledger';
import { AccountPool } from '../src/core/pool/accountPool';
import type { QuotaProvider } from '../src/core/provider';
import { QuotaManager } from '../src/core/quotaManager';
import type { Account, ModelQuota, QuotaReport, Tier } from '../src/core/types';
import { consume } from './harness';
import type { BenchRunner, BenchSuite } from './harness';

const MODEL = 'claude-sonnet-4-6';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TIERS: Tier[] = ['FREE', 'PRO', 'ULTRA'];

function accountInput(i: number): Account {
  return {
    id: `acct-${String(i).padStart(4, '0')}`,
    email: `user${i}@example.com`,
    label: `user${i}`,
    tier: TIERS[i % TIERS.length] as Tier,
    status: { kind: 'active' },
  };
}

/** Answers at once from a deterministic table; `models` sets how many model ids each report has. */
function tableProvider(clock: VirtualClock, models: readonly string[]): QuotaProvider {
  return {
    async fetchQuotas(a: Account): Promise<QuotaReport> {
      const n = Number(a.id.slice(5));
      const now = clock.now();
      const readings: ModelQuota[] = models.map((model, j) => ({
        model,
        remainingFraction: 0.2 + (((n + j) * 37) % 80) / 100,
        resetTime: now + (((n + j) % 48) + 1) * HOUR,
        source: 'models',
        fetchedAt: now,
      }));
      return { accountId: a.id, fetchedAt: now, models: readings, buckets: [] };
    },
    async fetchTier() {
      return { tier: 'PRO' };
    },
  };
}

interface Engine {
  clock: VirtualClock;
  registry: AccountRegistry;
  manager: QuotaManager;
  ledger: UsageLedger;
  pool: AccountPool;
}

async function engine(count: number, models: readonly string[]): Promise<Engine> {
  const clock = new VirtualClock();
  const registry = new AccountRegistry();
  const manager = new QuotaManager({
    clock,
    provider: tableProvider(clock, models),
    ttlMs: 365 * DAY,
  });
  const ledger = new UsageLedger({ clock });
  for (let i = 0; i < count; i++) {
    const a = registry.add(accountInput(i));
    await manager.refresh(a);
  }
  const pool = new AccountPool({ clock, registry, manager, ledger });
  return { clock, registry, manager, ledger, pool };
}

async function acquireCases(bench: BenchRunner): Promise<void> {
  for (const count of [10, 100, 1_000]) {
    const e = await engine(count, [MODEL]);
    const iterations = count >= 1_000 ? 3_000 : 10_000;
    bench.run(
      `acquire+release, ${count} accounts, no session`,
      () => {
        const lease = e.pool.acquire(MODEL, null);
        e.pool.release(lease, { kind: 'success', usage: { inputTokens: 100, outputTokens: 20 } });
        return lease;
      },
      { iterations, note: 'ranks the pool each call' },
    );
    let s = 0;
    bench.run(
      `acquire+release, ${count} accounts, bound session`,
      () => {
        const lease = e.pool.acquire(MODEL, `session-${s++ % 50}`);
        e.pool.release(lease, { kind: 'success', usage: { inputTokens: 100, outputTokens: 20 } });
        return lease;
      },
      { iterations, note: '50 sessions, sticky hits' },
    );
    await e.ledger.dispose();
  }
}

/** A full GC: the global one under --expose-gc, else one exposed at run time (V8 flag + vm). */
function findGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: () => void }).gc;
  if (global) return global;
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? () => void (fn as () => unknown)() : undefined;
  } catch {
    return undefined;
  }
}

const gc = findGc();

function heapUsedMb(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Heap for 1,000 accounts × 40 models with a week of hourly-bucketed usage history. */
async function heapCase(bench: BenchRunner): Promise<void> {
  const models = Array.from({ length: 40 }, (_, j) => (j === 0 ? MODEL : `bench-model-${j}`));
  const before = heapUsedMb();
  const e = await engine(1_000, models);
  const engineOnly = heapUsedMb() - before;
  // A week: every account × model used once every 6 hours, with the clock moving forward.
  for (let step = 0; step < 28; step++) {
    for (const a of e.registry.list()) {
      for (const model of models)
        e.ledger.record({ account: a.id, model, inputTokens: 500, outputTokens: 50 });
    }
    await e.clock.advanceAsync(6 * HOUR);
  }
  const after = heapUsedMb();
  consume(e);
  const gcNote = gc ? 'after full gc' : 'no gc available: upper bound';
  bench.add({
    name: 'heap: 1,000 accounts × 40 models, 1 week',
    iterations: 1,
    batch: 1,
    p50Ns: 0,
    p99Ns: 0,
    meanNs: 0,
    minNs: 0,
    maxNs: 0,
    opsPerSec: 0,
    note: `${(after - before).toFixed(1)} MB heap (${gcNote}): ${engineOnly.toFixed(1)} MB registry + quota cache, rest ledger`,
  });
  console.log(
    `  heap, 1,000 accounts × 40 models, 1 week: ${(after - before).toFixed(1)} MB; without the ledger week ${engineOnly.toFixed(1)} MB (${gcNote})`,
  );
  await e.ledger.dispose();
}

export const acquireSuite: BenchSuite = {
  name: 'acquire',
  async run(bench) {
    await acquireCases(bench);
    await heapCase(bench);
  },
};

/**
 * Usage-ledger micro-benchmarks: `record` and `reserve` + `release` (with limits in force, so every
 * reserve checks them), each beside a baseline in the same run: a plain Map counter update. Also the
 * daily summary of 20 accounts × 5 models, and a save (read-merge-write) into a memory store.
 */
import { VirtualClock } from '../src/core/clock';
import { MemoryLedgerStore, UsageLedger } from '../src/core/ledger';
import { consume } from './harness';
import type { BenchSuite } from './harness';

const MODELS = [
  'claude-sonnet-4-6',
  'claude-opus-4-6-thinking',
  'gemini-3-pro-high',
  'gemini-3-flash',
  'gpt-oss-120b-medium',
];
const ACCOUNTS = Array.from({ length: 20 }, (_, i) => `user${i}@example.com`);

function filledLedger(clock: VirtualClock, store?: MemoryLedgerStore): UsageLedger {
  const ledger = new UsageLedger({
    clock,
    ...(store ? { store } : {}),
    config: {
      limits: [
        { window: 'daily', requests: 1e9 },
        { pool: 'claude', window: 'weekly', tokens: 1e12 },
        { account: ACCOUNTS[0], window: '5h', requests: 1e9 },
      ],
    },
  });
  for (const account of ACCOUNTS) {
    for (const model of MODELS) ledger.record({ account, model, inputTokens: 1000, outputTokens: 200 });
  }
  return ledger;
}

export const ledgerSuite: BenchSuite = {
  name: 'ledger',
  async run(bench) {
    const clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
    let i = 0;

    const counts = new Map<string, { requests: number; tokens: number }>();
    bench.run(
      'baseline: Map counter update',
      () => {
        const key = `${ACCOUNTS[i % 20]}\u0000${MODELS[i++ % 5]}`;
        const c = counts.get(key);
        if (c) {
          c.requests++;
          c.tokens += 1200;
        } else counts.set(key, { requests: 1, tokens: 1200 });
        return c;
      },
      { iterations: 20_000, batch: 10, note: 'the floor any counter update pays' },
    );

    const ledger = filledLedger(clock);
    bench.run(
      'record (validated, 3 windows, 3 limits, alerts checked)',
      () =>
        ledger.record({
          account: ACCOUNTS[i % 20] as string,
          model: MODELS[i++ % 5] as string,
          inputTokens: 1000,
          outputTokens: 200,
        }),
      { iterations: 20_000, note: 'compare with the Map baseline above' },
    );

    bench.run(
      'reserve + release (3 limits checked)',
      () => {
        const r = ledger.reserve(
          ACCOUNTS[i % 20] as string,
          MODELS[i++ % 5] as string,
          { requests: 1, tokens: 8000 },
          60_000,
        );
        if (r.ok) ledger.release(r.id);
        return r;
      },
      { iterations: 20_000 },
    );

    const held: string[] = [];
    for (let k = 0; k < 50; k++) {
      const r = ledger.reserve(
        ACCOUNTS[k % 20] as string,
        MODELS[k % 5] as string,
        { requests: 1 },
        3_600_000,
      );
      if (r.ok) held.push(r.id);
    }
    bench.run(
      'reserve + release with 50 reservations outstanding',
      () => {
        const r = ledger.reserve(
          ACCOUNTS[i % 20] as string,
          MODELS[i++ % 5] as string,
          { requests: 1 },
          60_000,
        );
        if (r.ok) ledger.release(r.id);
        return r;
      },
      { iterations: 20_000 },
    );
    for (const id of held) ledger.release(id);

    bench.run('summary (20 accounts × 5 models)', () => consume(ledger.summary()), { iterations: 2_000 });

    const store = new MemoryLedgerStore();
    const persisted = filledLedger(clock, store);
    await bench.runAsync(
      'record + flush (read-merge-write, memory store)',
      async () => {
        persisted.record({
          account: ACCOUNTS[i % 20] as string,
          model: MODELS[i++ % 5] as string,
          inputTokens: 10,
        });
        await persisted.flush();
      },
      { iterations: 1_000 },
    );
    await persisted.dispose();
  },
};

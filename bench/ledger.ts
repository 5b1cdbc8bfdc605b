/**
 * Usage-ledger micro-benchmarks: `record` and `reserve` + `release` (with limits in force, so every
 * reserve checks them), each beside a baseline in the same run: a plain Map counter update. Also the
 * daily summary of 20 accounts × 5 models, and a save (read-merge-write) into a memory store.
 * Then the save cost on disk with a week of history (50 accounts × 40 models at 20 req/min): the
 * journal append against the old whole-document rewrite, in the same run, with bytes written.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../src/core/clock';
import { mergeOpsIntoDoc, MemoryLedgerStore, UsageLedger } from '../src/core/ledger';
import type { LedgerOp } from '../src/core/ledger';
import { FileLedgerStore, journalPathFor } from '../src/store/ledgerFileStore';
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

    await saveCostWithAWeek(bench);
  },
};

const DAY_MS = 24 * 3_600_000;

/** Save cost with a week of history on disk: journal append vs whole-document rewrite. */
async function saveCostWithAWeek(bench: Parameters<BenchSuite['run']>[0]): Promise<void> {
  const accounts = Array.from({ length: 50 }, (_, k) => `user${k}@example.com`);
  const models = Array.from({ length: 40 }, (_, k) => `${MODELS[k % 5]}-v${Math.floor(k / 5)}`);
  const end = Date.UTC(2026, 0, 12, 9);
  const ops: LedgerOp[] = [];
  let n = 0;
  for (let at = end - 7 * DAY_MS; at < end; at += 3_000) {
    ops.push({
      type: 'record',
      record: {
        account: accounts[n % 50] as string,
        model: models[(n * 7) % 40] as string,
        inputTokens: 1200,
        outputTokens: 300,
        thinkingTokens: 0,
        error: false,
        at,
      },
    });
    n++;
  }
  const week = `${JSON.stringify(mergeOpsIntoDoc(null, ops, 'UTC', end, 35 * DAY_MS))}\n`;
  const dir = await fs.mkdtemp(join(tmpdir(), 'qp-bench-ledger-'));
  try {
    const size = async (path: string): Promise<number> =>
      (await fs.stat(path).catch(() => ({ size: 0 }))).size;
    const figures: string[] = [];
    for (const journal of [false, true]) {
      const file = join(dir, journal ? 'journal' : 'whole', 'ledger.json');
      await fs.mkdir(join(file, '..'), { recursive: true });
      await fs.writeFile(file, week);
      const clock = new VirtualClock(end);
      const ledger = await UsageLedger.open({ clock, store: new FileLedgerStore(file, { journal }) });
      let k = 0;
      let written = 0;
      let saves = 0;
      const saveOne = async (): Promise<void> => {
        const before = journal ? await size(journalPathFor(file)) : 0;
        ledger.record({
          account: accounts[k % 50] as string,
          model: models[k++ % 40] as string,
          inputTokens: 10,
        });
        await ledger.flush();
        written += journal ? (await size(journalPathFor(file))) - before : await size(file);
        saves++;
      };
      const name = journal
        ? 'save with a week of history: journal append'
        : 'save with a week of history: whole rewrite';
      const r = await bench.runAsync(name, saveOne, {
        iterations: journal ? 200 : 20,
        warmup: 2,
        note: `${ops.length.toLocaleString('en-US')} records, ${(week.length / 1e6).toFixed(1)} MB snapshot`,
      });
      figures.push(
        `  ${name}: p50 ${(r.p50Ns / 1e6).toFixed(2)} ms, p99 ${(r.p99Ns / 1e6).toFixed(2)} ms, ${Math.round(written / saves).toLocaleString('en-US')} bytes written per save (one record each)`,
      );
      if (journal) {
        const start = process.hrtime.bigint();
        await ledger.compact();
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        figures.push(
          `  compaction of that journal into the snapshot: ${ms.toFixed(0)} ms, ${(await size(file)).toLocaleString('en-US')} bytes written`,
        );
      }
      await ledger.dispose();
    }
    process.stdout.write(`${figures.join('\n')}\n`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

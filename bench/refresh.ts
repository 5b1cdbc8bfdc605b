/**
 * Quota refresh cycles with many accounts: the CPU time one refresh of every account costs the whole
 * process (the engine host with its listeners and state store, plus the in-process simulator that
 * answers), next to a baseline in the same run — the same upstream calls through the same provider
 * at the monitor's concurrency, without the engine. The difference is what the engine adds per
 * cycle; it should grow linearly with the account count.
 *
 * `QP_BENCH_REFRESH_COUNTS=100,1000` (default) sets the account counts, `QP_BENCH_REFRESH_ROUNDS`
 * the measured cycles per count (default 5, 3 from 1,000 accounts).
 */
import pLimit from 'p-limit';
import { setTimeout as sleep } from 'node:timers/promises';
import { addSimulatorAccounts, simulatorOAuth } from '../src/host/demo';
import { EngineHost } from '../src/host/engineHost';
import { startSimulator, stressScenario } from '../src/simulator';
import { MemoryTokenStore } from '../src/upstream/cloudcode/oauth';
import type { BenchRunner, BenchSuite } from './harness';

/** The monitor's default concurrency (MonitorSettingsSchema). */
const CONCURRENCY = 4;

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Lets the state store's coalesced emits (and what they trigger) run; costs no CPU. */
async function settle(): Promise<void> {
  await sleep(100);
}

interface Sample {
  cpuMs: number;
  wallMs: number;
}

async function measure(fn: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  await settle();
  // The settle pause is idle time, not work.
  return { cpuMs: cpuMs(cpu), wallMs: performance.now() - t0 - 100 };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}

function add(bench: BenchRunner, name: string, samples: readonly Sample[], note: string): void {
  const cpu = samples.map((s) => s.cpuMs * 1e6).sort((a, b) => a - b);
  const m = mean(cpu);
  bench.add({
    name,
    iterations: samples.length,
    batch: 1,
    p50Ns: cpu[Math.floor((cpu.length - 1) / 2)] ?? 0,
    p99Ns: cpu[cpu.length - 1] ?? 0,
    meanNs: m,
    minNs: cpu[0] ?? 0,
    maxNs: cpu[cpu.length - 1] ?? 0,
    opsPerSec: m > 0 ? 1e9 / m : 0,
    note,
  });
}

async function cycles(bench: BenchRunner, count: number, rounds: number): Promise<void> {
  const sim = await startSimulator({ scenario: stressScenario(count), port: 0 });
  const host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: false, port: 0, key: 'qp-bench-refresh-key-0123456789' },
  });
  const state = host.state;
  let built = 0;
  const snapshot = state.snapshot.bind(state);
  state.snapshot = () => {
    built++;
    return snapshot();
  };
  try {
    await addSimulatorAccounts(host, sim);
    // Warm up: access tokens, projects and tiers, the first readings.
    await host.refresh();
    await settle();
    const accounts = host.registry.list();
    const limit = pLimit(CONCURRENCY);
    const base: Sample[] = [];
    const full: Sample[] = [];
    let builtPerCycle = 0;
    for (let r = 0; r < rounds; r++) {
      base.push(
        await measure(() => Promise.all(accounts.map((a) => limit(() => host.provider.fetchQuotas(a))))),
      );
      const before = built;
      full.push(await measure(() => host.refresh()));
      builtPerCycle = Math.max(builtPerCycle, built - before);
    }
    const baseCpu = mean(base.map((s) => s.cpuMs));
    const fullCpu = mean(full.map((s) => s.cpuMs));
    const label = count.toLocaleString('en-US');
    add(
      bench,
      `${label} accounts: fetch only`,
      base,
      `baseline: same upstream calls, no engine; wall ${mean(base.map((s) => s.wallMs)).toFixed(0)} ms`,
    );
    add(
      bench,
      `${label} accounts: refresh cycle`,
      full,
      `engine adds ${(fullCpu - baseCpu).toFixed(0)} ms CPU (${((fullCpu - baseCpu) / count).toFixed(2)} ms/account); ` +
        `${builtPerCycle} snapshots built; wall ${mean(full.map((s) => s.wallMs)).toFixed(0)} ms`,
    );
    console.log(
      `  ${label} accounts: cycle ${fullCpu.toFixed(0)} ms CPU, fetch-only baseline ${baseCpu.toFixed(0)} ms, ${builtPerCycle} snapshots per cycle`,
    );
  } finally {
    await host.dispose();
    await sim.close();
  }
}

export const refreshSuite: BenchSuite = {
  name: 'refresh',
  async run(bench) {
    const counts = (process.env.QP_BENCH_REFRESH_COUNTS ?? '100,1000')
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
    const rounds = Number(process.env.QP_BENCH_REFRESH_ROUNDS ?? 0);
    for (const count of counts)
      await cycles(bench, count, rounds > 0 ? Math.floor(rounds) : count >= 1_000 ? 3 : 5);
  },
};

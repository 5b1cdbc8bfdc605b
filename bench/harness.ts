/**
 * A tiny benchmark harness: runs a function N times after a warm-up, records each call's duration
 * with process.hrtime.bigint, and reports p50 / p99 / mean / ops per second. Results print as an
 * aligned table and collect into bench-output/bench.json with the machine they ran on.
 *
 * For very fast functions (well under a microsecond) set `batch`: each timed sample runs the
 * function `batch` times and the per-call time is the sample divided by `batch`, so the timer's own
 * cost does not swamp the measurement.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';

export interface BenchOptions {
  /** Timed samples; default 10 000. */
  iterations?: number;
  /** Untimed calls before sampling; default iterations / 10. */
  warmup?: number;
  /** Calls per timed sample; default 1. */
  batch?: number;
  /** Free text shown next to the result (what the case measures, its baseline). */
  note?: string;
}

export interface BenchResult {
  suite: string;
  name: string;
  iterations: number;
  batch: number;
  p50Ns: number;
  p99Ns: number;
  meanNs: number;
  minNs: number;
  maxNs: number;
  opsPerSec: number;
  note?: string;
}

export interface BenchSuite {
  name: string;
  /** Runs the suite's cases through `bench`; may be async (set up servers, etc.). */
  run(bench: BenchRunner): Promise<void> | void;
}

export type BenchFn = () => unknown;

/** Defeats dead-code elimination: results flow into a value the harness reads. */
let sink: unknown;
export function consume(value: unknown): void {
  sink = value;
}

export class BenchRunner {
  readonly results: BenchResult[] = [];
  constructor(private suite = '') {}

  setSuite(name: string): void {
    this.suite = name;
  }

  /** Times a synchronous function. */
  run(name: string, fn: BenchFn, options: BenchOptions = {}): BenchResult {
    const iterations = options.iterations ?? 10_000;
    const batch = Math.max(1, options.batch ?? 1);
    const warmup = options.warmup ?? Math.ceil(iterations / 10);
    for (let i = 0; i < warmup * batch; i++) sink = fn();
    const samples = new Float64Array(iterations);
    for (let i = 0; i < iterations; i++) {
      const start = process.hrtime.bigint();
      for (let b = 0; b < batch; b++) sink = fn();
      samples[i] = Number(process.hrtime.bigint() - start) / batch;
    }
    return this.record(name, samples, batch, options.note);
  }

  /** Times an async function, one call per sample (awaited in sequence). */
  async runAsync(name: string, fn: () => Promise<unknown>, options: BenchOptions = {}): Promise<BenchResult> {
    const iterations = options.iterations ?? 1_000;
    const warmup = options.warmup ?? Math.ceil(iterations / 10);
    for (let i = 0; i < warmup; i++) sink = await fn();
    const samples = new Float64Array(iterations);
    for (let i = 0; i < iterations; i++) {
      const start = process.hrtime.bigint();
      sink = await fn();
      samples[i] = Number(process.hrtime.bigint() - start);
    }
    return this.record(name, samples, 1, options.note);
  }

  /** Adds a result measured elsewhere (e.g. by autocannon). */
  add(result: Omit<BenchResult, 'suite'>): BenchResult {
    const full = { suite: this.suite, ...result };
    this.results.push(full);
    return full;
  }

  private record(name: string, samples: Float64Array, batch: number, note: string | undefined): BenchResult {
    const sorted = samples.slice().sort();
    let sum = 0;
    for (const s of sorted) sum += s;
    const mean = sum / sorted.length;
    const result: BenchResult = {
      suite: this.suite,
      name,
      iterations: sorted.length,
      batch,
      p50Ns: percentile(sorted, 0.5),
      p99Ns: percentile(sorted, 0.99),
      meanNs: mean,
      minNs: sorted[0] ?? 0,
      maxNs: sorted[sorted.length - 1] ?? 0,
      opsPerSec: mean > 0 ? 1e9 / mean : Infinity,
      ...(note === undefined ? {} : { note }),
    };
    this.results.push(result);
    return result;
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 2 : 0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1_000_000_000).toFixed(2)} s`;
}

function formatOps(ops: number): string {
  if (!Number.isFinite(ops)) return '∞';
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k`;
  return ops.toFixed(1);
}

/** An aligned text table of results. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['suite', 'case', 'p50', 'p99', 'mean', 'ops/s', 'samples', 'note'];
  const rows = results.map((r) => [
    r.suite,
    r.name,
    formatNs(r.p50Ns),
    formatNs(r.p99Ns),
    formatNs(r.meanNs),
    formatOps(r.opsPerSec),
    r.batch > 1 ? `${r.iterations}×${r.batch}` : String(r.iterations),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const numeric = new Set([2, 3, 4, 5, 6]);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return {
    node: process.version,
    platform: platform(),
    release: release(),
    arch: arch(),
    cpuModel: cpu[0]?.model ?? 'unknown',
    cpuCount: cpu.length,
    totalMemMb: Math.round(totalmem() / 1024 / 1024),
  };
}

/** Writes results and machine info to `<dir>/bench.json`; returns the path. */
export function writeResults(
  results: readonly BenchResult[],
  dir = 'bench-output',
  startedAt = new Date(),
): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'bench.json');
  const body = { startedAt: startedAt.toISOString(), machine: machineInfo(), results, sink: typeof sink };
  writeFileSync(path, JSON.stringify(body, null, 2) + '\n');
  return path;
}

/**
 * Benchmark entry point (bundled to dist/bench.js). Runs the suites in bench/suites.ts (or only
 * those named on the command line), prints a table, and writes bench-output/bench.json.
 */
import { BenchRunner, formatTable, writeResults } from './harness';
import { runChild } from './overhead/child';
import { SUITES } from './suites';

async function main(): Promise<number> {
  // A proxy under test in the overhead suite runs as a child of this same bundle.
  const child = process.env.QP_BENCH_CHILD;
  if (child) {
    await runChild(child);
    return 0;
  }
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
  if (unknown.length > 0) {
    console.error(
      `Unknown bench suite(s): ${unknown.join(', ')}. Known: ${SUITES.map((s) => s.name).join(', ')}.`,
    );
    return 2;
  }
  const suites = wanted.length === 0 ? SUITES : SUITES.filter((s) => wanted.includes(s.name));
  const startedAt = new Date();
  const runner = new BenchRunner();
  for (const suite of suites) {
    const t0 = process.hrtime.bigint();
    runner.setSuite(suite.name);
    console.log(`▶ ${suite.name}`);
    await suite.run(runner);
    console.log(`  done in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  }
  console.log('');
  console.log(formatTable(runner.results));
  const path = writeResults(runner.results, 'bench-output', startedAt);
  console.log(`\nResults written to ${path}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);

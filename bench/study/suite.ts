/**
 * `npm run bench -- study`: the 429 study table (every scenario × every policy, same workload and
 * seed), printed and added to bench-output/bench.json (one result per row, metrics in `note`), with
 * the rows as data in bench-output/study.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSuite } from '../harness';
import { POLICIES, formatStudyTable, runStudy } from './study';
import type { StudyRow } from './study';
import { studyScenarios } from './workload';
import { wireCheck } from './wire';

export const studySuite: BenchSuite = {
  name: 'study',
  async run(bench) {
    const rows: StudyRow[] = [];
    for (const scenario of studyScenarios()) {
      console.log(
        `  ${scenario.name}: ${scenario.description} (${scenario.requests.length} requests, 14 days)`,
      );
      for (const policy of POLICIES) {
        const t0 = process.hrtime.bigint();
        const row = await runStudy(scenario, policy);
        const ns = Number(process.hrtime.bigint() - t0);
        rows.push(row);
        bench.add({
          name: `${row.scenario} / ${row.policy}`,
          iterations: 1,
          batch: 1,
          p50Ns: ns,
          p99Ns: ns,
          meanNs: ns,
          minNs: ns,
          maxNs: ns,
          opsPerSec: 1e9 / ns,
          note:
            `served ${row.served}/${row.requests} (bound ${row.optimum}), failures ${row.failed}, ` +
            `upstream 429s ${row.upstream429}, sticky ${(row.stickiness * 100).toFixed(1)}%, switches ${row.switches}`,
        });
      }
    }
    console.log('');
    console.log(
      '429 study (14 simulated days; optimum≤: upper bound, each request only on the windows open when it arrives):',
    );
    console.log(formatStudyTable(rows));
    console.log('');
    console.log(
      'Wire check (same workload in-process and through proxy + simulator over sockets, one virtual clock):',
    );
    const wire = await wireCheck();
    for (const w of wire) {
      console.log(
        `  ${w.scenario} ${w.path.padEnd(10)}  requests ${w.requests}  served ${w.served}  failures ${w.failed}  upstream 429s ${w.upstream429}`,
      );
      bench.add({
        name: `${w.scenario} / quota-pilot ${w.path}`,
        iterations: 1,
        batch: 1,
        p50Ns: 0,
        p99Ns: 0,
        meanNs: 0,
        minNs: 0,
        maxNs: 0,
        opsPerSec: 0,
        note: `served ${w.served}/${w.requests}, failures ${w.failed}, upstream 429s ${w.upstream429}`,
      });
    }
    mkdirSync('bench-output', { recursive: true });
    writeFileSync(join('bench-output', 'study.json'), JSON.stringify(rows, null, 2) + '\n');
  },
};

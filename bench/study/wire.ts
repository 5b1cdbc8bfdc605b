/**
 * The study's wire check: a shorter workload (3 accounts, 2 simulated days) through the real proxy
 * (OpenAI format, x-session-id per session) to the simulator over sockets, both on one virtual clock,
 * next to the in-process run of the same workload. The counts should agree closely; small gaps
 * come from background quota fetches that take real socket time on the wire.
 */
import { request } from 'undici';
import { VirtualClock } from '../../src/core/clock';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import { startSimulator } from '../../src/simulator';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';
import { runStudy } from './study';
import type { StudyRow } from './study';
import { CLAUDE, DAY, START, developerDays, simAccounts } from './workload';
import type { StudyScenario } from './workload';

const KEY = 'qp-bench-wire-key-0123456789ab';

export function wireScenario(seed = 42): StudyScenario {
  return {
    name: 'wire-3-accounts-2d',
    description: '3 accounts (1 Pro, 2 Free), 2 days of a developer’s Claude bursts',
    sim: simAccounts(['PRO', 'FREE', 'FREE'], seed),
    requests: developerDays(seed, 1)
      .filter((r) => r.at < START + 2 * DAY)
      .map((r) => ({ ...r, model: CLAUDE })),
  };
}

export interface WireRow {
  scenario: string;
  path: 'in-process' | 'wire';
  requests: number;
  served: number;
  failed: number;
  upstream429: number;
}

export async function wireCheck(): Promise<WireRow[]> {
  const scenario = wireScenario();
  const inProcess: StudyRow = await runStudy(scenario, 'quota-pilot');
  const clock = new VirtualClock(START);
  const sim = await startSimulator({ scenario: scenario.sim, port: 0, clock });
  const host = await EngineHost.create({
    clock,
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: KEY },
  });
  let served = 0;
  let failed = 0;
  try {
    await addSimulatorAccounts(host, sim);
    await host.start();
    await host.refresh();
    const url = host.proxyStatus().url;
    if (!url) throw new Error('wire check: the proxy did not start');
    for (const req of scenario.requests) {
      if (req.at > clock.now()) await clock.advanceTo(req.at);
      const res = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'x-session-id': req.session,
        },
        body: JSON.stringify({ model: req.model, messages: [{ role: 'user', content: 'Reply please' }] }),
      });
      await res.body.dump();
      if (res.statusCode === 200) served++;
      else failed++;
    }
    const rateLimited = sim.control.stats().rateLimited;
    return [
      {
        scenario: scenario.name,
        path: 'in-process',
        requests: inProcess.requests,
        served: inProcess.served,
        failed: inProcess.failed,
        upstream429: inProcess.upstream429,
      },
      {
        scenario: scenario.name,
        path: 'wire',
        requests: scenario.requests.length,
        served,
        failed,
        upstream429: rateLimited,
      },
    ];
  } finally {
    await host.dispose();
    await sim.close();
  }
}

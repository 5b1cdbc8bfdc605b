/**
 * Availability under upstream faults, over real sockets: HTTP client → Quota Pilot's proxy (pool,
 * failover) → Cloud Code client → the simulator with a seeded fault rate. Transient upstream errors
 * (5xx, connection resets, 401s that a token refresh fixes) must be retried on other accounts, not
 * take accounts out of rotation, and a request that still fails must say the upstream is failing
 * (5xx), never "rate limited" (429).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import type { RunningSimulator } from '../../src/simulator';
import type { FaultSpec, ScenarioInput } from '../../src/simulator/scenario';
import { startSimulator } from '../../src/simulator';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

const KEY = 'qp-test-key-0123456789abcdef';
const MODEL = 'gemini-3-flash';
const REQUESTS = 80;

function scenario(faults: FaultSpec[]): ScenarioInput {
  return {
    name: 'faults',
    seed: 11,
    latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 2 },
    accounts: ['a', 'b', 'c', 'd'].map((id, i) => ({
      id,
      email: `${id}@example.com`,
      tier: 'PRO' as const,
      refreshToken: `rt-${id}-00000000000${i}`,
      project: `proj-${id}`,
    })),
    faults,
  };
}

let sim: RunningSimulator | undefined;
let host: EngineHost | undefined;

afterEach(async () => {
  await host?.dispose();
  await sim?.close();
  host = undefined;
  sim = undefined;
});

async function start(faults: FaultSpec[]): Promise<string> {
  sim = await startSimulator({ scenario: scenario([]), port: 0 });
  host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: KEY },
  });
  await addSimulatorAccounts(host, sim);
  await host.start();
  await host.refresh();
  // Faults only from now on: sign-in and the first quota reading went through.
  for (const f of faults) sim.control.addFault(f);
  return host.proxyStatus().url as string;
}

interface Tally {
  ok: number;
  statuses: Map<number, number>;
  bodies: string[];
}

/** Sends requests one after another (a bounded loop); counts the answers by status. */
async function drive(url: string, stream: boolean): Promise<Tally> {
  const tally: Tally = { ok: 0, statuses: new Map(), bodies: [] };
  for (let i = 0; i < REQUESTS; i++) {
    const path = stream
      ? `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`
      : `/v1beta/models/${MODEL}:generateContent`;
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: `request ${i}` }] }] }),
    });
    const text = await res.text();
    const good = res.status === 200 && !text.includes('"error"');
    if (good) tally.ok++;
    else tally.bodies.push(`${res.status} ${text.slice(0, 300)}`);
    tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1);
  }
  return tally;
}

describe('availability under upstream faults (proxy + simulator over sockets)', () => {
  it.each([
    ['50% server errors, whole answers', { kind: 'server-error', rate: 0.5 } as FaultSpec, false],
    ['50% server errors, streamed', { kind: 'server-error', rate: 0.5 } as FaultSpec, true],
    ['30% connection resets, whole answers', { kind: 'connection-reset', rate: 0.3 } as FaultSpec, false],
    ['30% 401s, whole answers', { kind: 'token-expired', rate: 0.3 } as FaultSpec, false],
  ])(
    '%s: at least 90 percent served, failures are never 429',
    async (_name, fault, stream) => {
      const url = await start([fault]);
      const t = await drive(url, stream);
      expect(
        t.ok / REQUESTS,
        `served ${t.ok}/${REQUESTS}; ${t.bodies.slice(0, 3).join(' | ')}`,
      ).toBeGreaterThanOrEqual(0.9);
      expect(t.statuses.get(429) ?? 0).toBe(0);
      for (const b of t.bodies) expect(b).toMatch(/^50[23] .*The upstream is failing/);
      // Every account is still in rotation.
      for (const a of host?.registry.list() ?? []) expect(a.status.kind).toBe('active');
    },
    60_000,
  );
});

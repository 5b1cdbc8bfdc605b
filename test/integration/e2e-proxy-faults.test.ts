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
import type { Limit } from '../../src/core/ledger/schema';
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

async function start(
  faults: FaultSpec[],
  limits: Limit[] = [],
  firstByteTimeoutSeconds?: number,
): Promise<string> {
  sim = await startSimulator({ scenario: scenario([]), port: 0 });
  host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: KEY },
    ledger: { limits },
    ...(firstByteTimeoutSeconds === undefined ? {} : { firstByteTimeoutSeconds }),
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

async function post(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const ask = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };
const GENERATE = `/v1beta/models/${MODEL}:generateContent`;

describe('answers that say what happened', () => {
  it('fails a malformed answer over to another account', async () => {
    const url = await start([{ kind: 'malformed-json', once: true }]);
    const r = await post(url, GENERATE, ask);
    expect(r.status, r.text).toBe(200);
    expect(sim?.control.stats().faultsFired['malformed-json']).toBe(1);
  }, 30_000);

  it('says every account needs verification, with the link, and brings them back on refresh', async () => {
    const url = await start([{ kind: 'validation-required' }]);
    const r = await post(url, GENERATE, ask);
    expect(r.status, r.text).toBe(403);
    expect(r.text).toContain('verified in a browser');
    expect(r.text).toContain('https://accounts.google.com/signin/continue');
    expect(r.text).toContain('Verify Account in Browser');
    expect(r.headers.get('retry-after')).toBeNull();
    // Again: now from the pool (every account is out of rotation), same answer.
    const again = await post(url, GENERATE, ask);
    expect(again.status, again.text).toBe(403);
    expect(again.text).toContain('Verify Account in Browser');
    for (const a of host?.registry.list() ?? []) expect(a.status.kind).toBe('needs-verification');
    // The user verified (the upstream stops asking); a refresh asks loadCodeAssist again.
    sim?.control.clearFaults();
    const refreshed = await post(url, '/quota-pilot/v1/refresh', {});
    expect(refreshed.status, refreshed.text).toBe(200);
    for (const a of host?.registry.list() ?? []) expect(a.status.kind).toBe('active');
    expect((await post(url, GENERATE, ask)).status).toBe(200);
  }, 30_000);
});

describe('a stalled upstream', () => {
  it('fails a stalled stream over to another account within the first-byte deadline', async () => {
    const url = await start([{ kind: 'stall', once: true }], [], 0.4);
    const started = Date.now();
    const r = await post(url, `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, ask);
    const took = Date.now() - started;
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain('"candidates"');
    expect(r.text).not.toContain('"error"');
    expect(sim?.control.stats().faultsFired['stall']).toBe(1);
    // One first-byte deadline, then another account (not the 60 s headers timeout).
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(10_000);
    // The account that stalled sits out briefly; the others serve.
    const cooling = host?.manager.listCooldowns() ?? [];
    expect(cooling.map((c) => c.kind)).toEqual(['transient']);
    expect((cooling[0]?.until ?? 0) - Date.now()).toBeLessThanOrEqual(15_000);
  }, 30_000);
});

describe('admin API', () => {
  it('honours ttlMs when the pool picks the account', async () => {
    const url = await start([]);
    const before = Date.now();
    const r = await post(url, '/quota-pilot/v1/reservations', { model: MODEL, tokens: 1000, ttlMs: 300 });
    expect(r.status, r.text).toBe(201);
    const body = JSON.parse(r.text) as { accountId: string; expiresAt: number };
    expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 300);
    expect(body.expiresAt).toBeGreaterThanOrEqual(before + 300);
    expect(host?.ledger.reservedFor(body.accountId, MODEL).count).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(host?.ledger.reservedFor(body.accountId, MODEL).count).toBe(0);
  }, 30_000);

  it('refuses what it cannot do: no account, unknown model, unknown account', async () => {
    const url = await start([]);
    for (const a of sim?.accounts ?? [])
      sim?.control.drain({ account: a.email, pool: 'gemini-flash', toFraction: 0 });
    await host?.refresh();
    const none = await post(url, '/quota-pilot/v1/reservations', { model: MODEL, tokens: 1000 });
    expect(none.status, none.text).toBe(429);
    expect(none.text).toContain('No reservation: No account has quota left for gemini-3-flash');
    expect(none.text).toMatch(/serves again in \d/);
    const unknownModel = await post(url, '/quota-pilot/v1/reservations', {
      model: 'no-such-model-9',
      tokens: 10,
    });
    expect(unknownModel.status, unknownModel.text).toBe(404);
    expect(unknownModel.text).toContain('no-such-model-9');
    for (const [path, body] of [
      ['/quota-pilot/v1/refresh', { accountId: 'nobody@example.com' }],
      ['/quota-pilot/v1/cooldowns/reset', { accountId: 'nobody@example.com' }],
      ['/quota-pilot/v1/reservations', { model: MODEL, tokens: 10, accountId: 'nobody@example.com' }],
    ] as const) {
      const r = await post(url, path, body);
      expect(r.status, `${path}: ${r.text}`).toBe(404);
      const message = (JSON.parse(r.text) as { error: { message: string } }).error.message;
      expect(message).toContain('No account "nobody@example.com"');
    }
    const bad = await post(url, '/quota-pilot/v1/reservations', { model: MODEL, tokens: -1 });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('tokens');
  }, 30_000);

  it('never overruns a limit under hundreds of concurrent reservations, and answers no 5xx', async () => {
    const url = await start([], [{ window: 'daily', requests: 50 }]);
    const answers = await Promise.all(
      Array.from({ length: 300 }, () =>
        post(url, '/quota-pilot/v1/reservations', { model: MODEL, tokens: 100 }),
      ),
    );
    const by = new Map<number, number>();
    for (const a of answers) by.set(a.status, (by.get(a.status) ?? 0) + 1);
    expect(by.get(201)).toBe(50);
    expect(by.get(429)).toBe(250);
    expect([...by.keys()].filter((s) => s >= 500)).toEqual([]);
    const reserved = (host?.registry.list() ?? []).reduce(
      (n, a) => n + (host?.ledger.reservedFor(a.id, MODEL).count ?? 0),
      0,
    );
    expect(reserved).toBe(50);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock, VirtualClock } from '../../src/core/clock';
import { ScaledClock, startSimulator, type RunningSimulator, type SimulatorState } from '../../src/simulator';

let sim: RunningSimulator;
let clock: VirtualClock;

beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
  sim = await startSimulator({ scenario: 'demo', clock });
});
afterAll(async () => {
  await sim.close();
});

async function control(
  action: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.baseUrl}/_simulator/${action}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function state(): Promise<SimulatorState> {
  return (await control('state')).json as unknown as SimulatorState;
}

describe('/_simulator/ control API', () => {
  it('GET state lists accounts with remaining per pool and window, and stats', async () => {
    const s = await state();
    expect(s.scenario).toBe('demo');
    expect(s.virtualClock).toBe(true);
    expect(s.now).toBe('2026-01-05T09:00:00.000Z');
    expect(s.accounts.map((a) => a.email)).toEqual([
      'ada.ultra@example.com',
      'ben.pro@example.com',
      'cy.free@example.com',
      'dee.free@example.com',
    ]);
    const free = s.accounts[2];
    expect(free?.pools.claude?.['5h'].fraction).toBeCloseTo(0.08);
    expect(free?.pools.claude?.weekly.fraction).toBeCloseTo(0.3);
    expect(free?.pools.claude?.fraction).toBeCloseTo(0.08);
    expect(s.accounts[3]?.project).toBeNull();
    expect(s.stats).toMatchObject({ requests: {}, rateLimited: 0 });
  });

  it('POST drain by email and model, then POST reset', async () => {
    const r = await control('drain', {
      account: 'ben.pro@example.com',
      model: 'claude-opus-4-6-thinking',
      toFraction: 0.03,
    });
    expect(r.status).toBe(200);
    let pro = (await state()).accounts[1];
    expect(pro?.pools.claude?.fraction).toBeCloseTo(0.03);
    await control('drain', { account: 'pro', pool: 'gemini-flash', toFraction: 0.5, window: 'weekly' });
    pro = (await state()).accounts[1];
    expect(pro?.pools['gemini-flash']?.weekly.fraction).toBeCloseTo(0.5);
    expect(pro?.pools['gemini-flash']?.['5h'].fraction).toBeCloseTo(0.95);
    await control('reset', {});
    pro = (await state()).accounts[1];
    expect(pro?.pools.claude?.fraction).toBeCloseTo(0.45);
  });

  it('explains bad control calls with 400', async () => {
    expect(await control('drain', { account: 'nobody', pool: 'claude', toFraction: 0 })).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining('no simulator account "nobody"') },
    });
    expect((await control('drain', { account: 'pro', pool: 'claude', toFraction: 2 })).status).toBe(400);
    expect((await control('drain', { account: 'pro', pool: 'nope', toFraction: 0 })).json.error).toContain(
      'drain needs a pool',
    );
    expect((await control('fault', { kind: 'explode' })).json.error).toContain('invalid fault: kind');
    expect((await control('advance', {})).json.error).toContain('"ms" is required');
    expect((await control('whatever', {})).status).toBe(404);
  });

  it('POST fault, clear-faults, advance, expire-tokens', async () => {
    expect((await control('fault', { kind: 'server-error', rate: 0.5, account: 'pro' })).status).toBe(200);
    expect((await state()).faults).toEqual([{ kind: 'server-error', rate: 0.5, account: 'pro' }]);
    await control('clear-faults', {});
    expect((await state()).faults).toEqual([]);

    const t = sim.control.issueAccessToken('ultra').accessToken;
    const load = async (): Promise<number> =>
      (
        await fetch(`${sim.baseUrl}/v1internal:loadCodeAssist`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t}` },
          body: '{}',
        })
      ).status;
    expect(await load()).toBe(200);
    expect((await control('expire-tokens', { account: 'ultra' })).json).toMatchObject({
      ok: true,
      expired: 1,
    });
    expect(await load()).toBe(401);

    await control('advance', { ms: 3_600_000 });
    expect((await state()).now).toBe('2026-01-05T10:00:00.000Z');
    expect((await state()).stats.requests.loadCodeAssist).toBe(2);
  });

  it('POST account-status bans and flags accounts', async () => {
    await control('account-status', { account: 'pro', banned: true });
    expect((await state()).accounts[1]?.banned).toBe(true);
    await control('account-status', {
      account: 'pro',
      banned: false,
      validationUrl: 'https://example.com/verify',
    });
    expect((await state()).accounts[1]).toMatchObject({
      banned: false,
      validationUrl: 'https://example.com/verify',
    });
    await control('reset', {});
    expect((await state()).accounts[1]).toMatchObject({ banned: false, validationUrl: null });
  });
});

describe('clocks', () => {
  it('advance is refused on a real clock', async () => {
    const s = await startSimulator({ scenario: 'demo', clock: new SystemClock() });
    try {
      await expect(s.control.advance(1000)).rejects.toThrow(/only on a virtual clock/);
    } finally {
      await s.close();
    }
  });

  it('a time scale runs simulated time faster from the start', async () => {
    const c = new ScaledClock(3600, Date.UTC(2026, 0, 1));
    expect(c.now()).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1));
    expect(c.now()).toBeLessThan(Date.UTC(2026, 0, 1) + 3_600_000); // not yet a simulated hour
    await new Promise((resolve) => setTimeout(resolve, 20));
    // At least ~15 ms of real time passed: at least 15 × 3600 ms of simulated time.
    expect(c.now() - Date.UTC(2026, 0, 1)).toBeGreaterThanOrEqual(15 * 3600);
    expect(() => new ScaledClock(0)).toThrow(/positive/);
  });

  it('startSimulator uses a ScaledClock for a time scale and reports a taken port clearly', async () => {
    const s = await startSimulator({ scenario: 'demo', timeScale: 60 });
    try {
      expect(s.clock).toBeInstanceOf(ScaledClock);
      await expect(startSimulator({ scenario: 'demo', port: s.port })).rejects.toThrow(
        `port ${s.port} on 127.0.0.1 is already in use`,
      );
    } finally {
      await s.close();
    }
  });
});

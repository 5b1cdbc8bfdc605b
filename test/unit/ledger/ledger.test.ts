import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import {
  DailySummarySchema,
  formatSummaryTable,
  LedgerInputError,
  MemoryLedgerStore,
  UsageLedger,
} from '../../../src/core/ledger';
import type { LedgerAlert, LedgerChange } from '../../../src/core/ledger';

const H = 3_600_000;
const MON = Date.UTC(2026, 0, 5, 9, 0); // Monday 09:00 UTC
const A = 'a@example.com';
const B = 'b@example.com';
const SONNET = 'claude-sonnet-4-6';
const OPUS = 'claude-opus-4-6-thinking';
const FLASH = 'gemini-3-flash';

function setup(config: unknown = {}, start = MON) {
  const clock = new VirtualClock(start);
  const ledger = new UsageLedger({ clock, config });
  const alerts: LedgerAlert[] = [];
  ledger.onAlert((a) => alerts.push(a));
  return { clock, ledger, alerts };
}

describe('usage', () => {
  it('counts requests, tokens, errors and first/last per account × model and per model group', () => {
    const { clock, ledger } = setup();
    ledger.record({ account: A, model: SONNET, inputTokens: 100, outputTokens: 20, thinkingTokens: 5 });
    clock.advance(60_000);
    ledger.record({ account: A, model: OPUS, inputTokens: 10, outputTokens: 1, error: true });
    ledger.record({ account: B, model: SONNET, inputTokens: 7 });
    expect(ledger.usage(A, SONNET)).toEqual({
      requests: 1,
      inputTokens: 100,
      outputTokens: 20,
      thinkingTokens: 5,
      tokens: 125,
      errors: 0,
      firstAt: MON,
      lastAt: MON,
    });
    const pool = ledger.poolUsage(A, 'claude');
    expect(pool).toMatchObject({ requests: 2, tokens: 136, errors: 1, firstAt: MON, lastAt: MON + 60_000 });
    expect(ledger.usage(A, SONNET, '5h').requests).toBe(1);
    expect(ledger.usage(A, SONNET, 'weekly').requests).toBe(1);
    expect(ledger.usage(B, SONNET).inputTokens).toBe(7);
  });

  it('rejects invalid records with a clear error', () => {
    const { ledger } = setup();
    expect(() => ledger.record({ account: A, model: SONNET, inputTokens: -1 })).toThrow(LedgerInputError);
    expect(() => ledger.record({ account: '', model: SONNET })).toThrow(/account/);
  });
});

describe('the daily window', () => {
  it('resets at UTC midnight', () => {
    const { clock, ledger } = setup({}, Date.UTC(2026, 0, 5, 23, 59));
    ledger.record({ account: A, model: SONNET });
    expect(ledger.usage(A, SONNET).requests).toBe(1);
    expect(ledger.summary().day).toBe('2026-01-05');
    clock.advance(60_000);
    expect(ledger.usage(A, SONNET).requests).toBe(0);
    expect(ledger.summary().day).toBe('2026-01-06');
    expect(ledger.summary().rows).toEqual([]);
    // The provider's windows are not days: they keep counting.
    expect(ledger.usage(A, SONNET, '5h').requests).toBe(1);
  });

  it('resets at midnight of a configured zone, on a 23-hour DST day too', () => {
    // 2026-03-08 in New York: clocks jump 02:00 → 03:00; the day ends at 04:00 UTC on the 9th.
    const { clock, ledger } = setup({ timeZone: 'America/New_York' }, Date.UTC(2026, 2, 8, 6));
    ledger.record({ account: A, model: SONNET });
    const s = ledger.summary();
    expect(s.day).toBe('2026-03-08');
    expect(s.resetTime).toBe(Date.UTC(2026, 2, 9, 4));
    clock.advance(Date.UTC(2026, 2, 9, 3, 59) - clock.now());
    ledger.record({ account: A, model: SONNET });
    expect(ledger.usage(A, SONNET).requests).toBe(2);
    clock.advance(60_000);
    expect(ledger.usage(A, SONNET).requests).toBe(0);
    expect(ledger.summary().day).toBe('2026-03-09');
  });

  it('keeps counting through the 25-hour fall-back day of a zone', () => {
    // 2026-11-01 in New York lasts from 04:00 UTC to 05:00 UTC the next day.
    const { clock, ledger } = setup({ timeZone: 'America/New_York' }, Date.UTC(2026, 10, 1, 4, 0));
    ledger.record({ account: A, model: SONNET });
    clock.advance(24 * H + 59 * 60_000); // 04:59 UTC on the 2nd: still the 1st in New York
    ledger.record({ account: A, model: SONNET });
    expect(ledger.usage(A, SONNET).requests).toBe(2);
    clock.advance(60_000);
    expect(ledger.summary().day).toBe('2026-11-02');
    expect(ledger.usage(A, SONNET).requests).toBe(0);
  });

  it('switches to a new zone when reconfigured, and rejects a bad one', () => {
    const { ledger } = setup({}, Date.UTC(2026, 0, 5, 23, 30));
    expect(ledger.summary().day).toBe('2026-01-05');
    ledger.configure({ timeZone: 'Asia/Tokyo' });
    expect(ledger.summary()).toMatchObject({ day: '2026-01-06', timeZone: 'Asia/Tokyo' });
    expect(() => ledger.configure({ timeZone: 'Nowhere/Land' })).toThrow(/IANA/);
    expect(ledger.timeZone).toBe('Asia/Tokyo');
  });

  it('fires a threshold again in the next day, not twice in one day', () => {
    const { clock, ledger, alerts } = setup({ limits: [{ window: 'daily', requests: 2 }] });
    ledger.record({ account: A, model: SONNET });
    ledger.record({ account: A, model: SONNET });
    ledger.record({ account: A, model: SONNET });
    expect(alerts.map((a) => a.level)).toEqual([50, 80, 90, 100]);
    clock.advance(24 * H);
    ledger.record({ account: A, model: SONNET });
    expect(alerts.map((a) => a.level)).toEqual([50, 80, 90, 100, 50]);
  });
});

describe('provider windows', () => {
  it('estimates a 5-hour window from the first use, takes the provider reset time, and starts a new one after it', () => {
    const { clock, ledger } = setup();
    ledger.record({ account: A, model: SONNET });
    expect(ledger.providerWindow(A, 'claude', '5h')).toEqual({
      start: MON,
      resetTime: MON + 5 * H,
      estimated: true,
    });
    ledger.noteProviderWindow(A, 'claude', '5h', MON + 3 * H);
    expect(ledger.providerWindow(A, 'claude', '5h')).toEqual({
      start: MON,
      resetTime: MON + 3 * H,
      estimated: false,
    });
    ledger.record({ account: A, model: OPUS });
    expect(ledger.poolUsage(A, 'claude', '5h').requests).toBe(2);
    clock.advance(3 * H);
    expect(ledger.poolUsage(A, 'claude', '5h').requests).toBe(0);
    expect(ledger.poolUsage(A, 'claude', 'weekly').requests).toBe(2);
    ledger.noteProviderWindow(A, 'claude', '5h', clock.now() + 5 * H);
    ledger.record({ account: A, model: SONNET });
    expect(ledger.poolUsage(A, 'claude', '5h').requests).toBe(1);
    expect(ledger.providerWindow(A, 'claude', '5h')?.estimated).toBe(false);
  });

  it('rejects an unknown provider window', () => {
    const { ledger } = setup();
    expect(() => ledger.noteProviderWindow(A, 'claude', 'monthly' as '5h', MON + H)).toThrow(/5h/);
  });

  it('enforces a 5-hour limit in the provider window', () => {
    const { clock, ledger } = setup({ limits: [{ account: A, pool: 'claude', window: '5h', requests: 2 }] });
    ledger.noteProviderWindow(A, 'claude', '5h', MON + H);
    ledger.record({ account: A, model: SONNET });
    ledger.record({ account: A, model: OPUS });
    const refused = ledger.reserve(A, SONNET, { requests: 1 }, 60_000);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.resetTime).toBe(MON + H);
    // Other groups and other accounts are not limited by it.
    expect(ledger.reserve(A, FLASH, { requests: 1 }, 60_000).ok).toBe(true);
    expect(ledger.reserve(B, SONNET, { requests: 1 }, 60_000).ok).toBe(true);
    clock.advance(H);
    expect(ledger.reserve(A, SONNET, { requests: 1 }, 60_000).ok).toBe(true);
  });
});

describe('alerts', () => {
  it('fires 50/80/90 and exhaustion of the user limit once each, with the full payload', () => {
    const { ledger, alerts } = setup({ limits: [{ account: A, window: 'daily', requests: 10 }] });
    for (let i = 0; i < 4; i++) ledger.record({ account: A, model: SONNET });
    expect(alerts).toEqual([]);
    ledger.record({ account: A, model: SONNET });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toEqual({
      id: expect.any(String),
      account: A,
      model: SONNET,
      level: 50,
      exhausted: false,
      used: 5,
      limit: 10,
      remaining: 5,
      unit: 'requests',
      resetTime: Date.UTC(2026, 0, 6),
      source: 'limit',
      window: 'daily',
      scope: `daily requests limit of account ${A}`,
      firedAt: MON,
    });
    for (let i = 0; i < 10; i++) ledger.record({ account: A, model: SONNET });
    expect(alerts.map((a) => [a.level, a.exhausted])).toEqual([
      [50, false],
      [80, false],
      [90, false],
      [100, true],
    ]);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(4);
  });

  it('uses the most binding unit (tokens here) and says which', () => {
    const { ledger, alerts } = setup({ limits: [{ window: 'daily', requests: 100, tokens: 1000 }] });
    ledger.record({ account: A, model: SONNET, inputTokens: 850 });
    expect(alerts.map((a) => [a.level, a.unit, a.used, a.remaining])).toEqual([
      [50, 'tokens', 850, 150],
      [80, 'tokens', 850, 150],
    ]);
  });

  it("uses the provider's fraction when no limit applies, and says so", () => {
    const { ledger, alerts } = setup({ thresholds: [50, 75] });
    const reset = MON + 4 * H;
    ledger.noteProviderFraction(A, SONNET, 0.6, reset);
    expect(alerts).toEqual([]);
    ledger.noteProviderFraction(A, SONNET, 0.45, reset);
    ledger.noteProviderFraction(A, SONNET, 0.4, reset);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      level: 50,
      source: 'provider',
      unit: 'percent',
      used: 55,
      remaining: 45,
      resetTime: reset,
    });
    expect(alerts[0]?.limit).toBeUndefined();
    ledger.noteProviderFraction(A, SONNET, 0, reset);
    expect(alerts.map((a) => a.level)).toEqual([50, 75, 100]);
    // A new provider window (new reset time) fires again.
    ledger.noteProviderFraction(A, SONNET, 0.4, reset + 5 * H);
    expect(alerts.map((a) => a.level)).toEqual([50, 75, 100, 50]);
  });

  it('with a user limit, the provider fraction alerts only on exhaustion', () => {
    const { ledger, alerts } = setup({ limits: [{ window: 'daily', requests: 100 }] });
    ledger.noteProviderFraction(A, SONNET, 0.3, MON + H);
    expect(alerts).toEqual([]);
    ledger.noteProviderFraction(A, SONNET, 0, MON + H);
    expect(alerts.map((a) => [a.source, a.level])).toEqual([['provider', 100]]);
  });

  it('a failing listener does not break recording, and is reported', () => {
    const { ledger } = setup({ limits: [{ window: 'daily', requests: 1 }] });
    ledger.onAlert(() => {
      throw new Error('boom');
    });
    expect(ledger.record({ account: A, model: SONNET })).toHaveLength(4);
    expect(ledger.problems.map((p) => p.kind)).toContain('listener');
  });
});

describe('restart', () => {
  it('does not fire an alert again after a restart, and keeps the usage', async () => {
    const clock = new VirtualClock(MON);
    const store = new MemoryLedgerStore();
    const config = { limits: [{ window: 'daily', requests: 10 }] };
    const first = await UsageLedger.open({ clock, store, config });
    const fired: number[] = [];
    first.onAlert((a) => fired.push(a.level));
    for (let i = 0; i < 6; i++) first.record({ account: A, model: SONNET });
    expect(fired).toEqual([50]);
    await first.dispose();

    const second = await UsageLedger.open({ clock, store, config });
    second.onAlert((a) => fired.push(a.level));
    expect(second.usage(A, SONNET).requests).toBe(6);
    second.record({ account: A, model: SONNET });
    expect(fired).toEqual([50]);
    second.record({ account: A, model: SONNET });
    expect(fired).toEqual([50, 80]);
    expect(second.summary().rows[0]?.alertsFired).toEqual([50, 80]);
  });

  it('saves debounced on the clock and keeps changes when a save fails', async () => {
    const clock = new VirtualClock(MON);
    const store = new MemoryLedgerStore();
    const ledger = await UsageLedger.open({ clock, store, config: { saveDelayMs: 1000 } });
    ledger.record({ account: A, model: SONNET });
    ledger.record({ account: A, model: SONNET });
    expect(store.writes).toBe(0);
    await clock.advanceAsync(1000);
    expect(store.writes).toBe(1);
    expect(store.doc?.counters.find((c) => c.window === 'daily')?.requests).toBe(2);

    store.failWith = { kind: 'permission', message: 'cannot write ledger.json: permission denied' };
    ledger.record({ account: A, model: SONNET });
    await clock.advanceAsync(1000);
    expect(ledger.problems.at(-1)?.kind).toBe('permission');
    store.failWith = null;
    await clock.advanceAsync(60_000);
    expect(store.doc?.counters.find((c) => c.window === 'daily')?.requests).toBe(3);
    await ledger.dispose();
  });
});

describe('reservations', () => {
  it('refuses over a limit with a clear reason, and counts reservations as used', () => {
    const { ledger } = setup({ limits: [{ pool: 'claude', window: 'daily', requests: 3 }] });
    ledger.record({ account: A, model: SONNET });
    const r1 = ledger.reserve(A, SONNET, { requests: 1 }, 60_000);
    const r2 = ledger.reserve(B, OPUS, { requests: 1 }, 60_000);
    expect(r1.ok && r2.ok).toBe(true);
    const r3 = ledger.reserve(A, SONNET, { requests: 1 }, 60_000);
    expect(r3.ok).toBe(false);
    if (r3.ok) return;
    expect(r3.reason).toContain('daily requests limit of model group claude (all accounts) is 3');
    expect(r3.reason).toContain('1 used and 2 reserved');
    expect(r3.reason).toContain('resets at 2026-01-06T00:00:00.000Z');
    expect(r3).toMatchObject({ unit: 'requests', used: 1, reserved: 2, requested: 1 });
    // Other pools are unaffected.
    expect(ledger.reserve(A, FLASH, { requests: 5 }, 60_000).ok).toBe(true);
    expect(ledger.limitStatus(A, SONNET)[0]).toMatchObject({
      used: 1,
      reserved: 2,
      remaining: 0,
      usedPercent: 100,
    });
  });

  it('refuses a token reservation when tokens would exceed the limit', () => {
    const { ledger } = setup({ limits: [{ account: A, window: 'daily', tokens: 10_000 }] });
    ledger.record({ account: A, model: SONNET, inputTokens: 6_000 });
    expect(ledger.reserve(A, SONNET, { tokens: 5_000 }, 1000).ok).toBe(false);
    expect(ledger.reserve(A, SONNET, { tokens: 4_000 }, 1000).ok).toBe(true);
    // Nothing left: even a request-only reservation is refused.
    expect(ledger.reserve(A, SONNET, { requests: 1 }, 1000).ok).toBe(false);
  });

  it('exposes reserved amounts, releases explicitly and on the matching record', () => {
    const { ledger } = setup();
    const changes: LedgerChange['kind'][] = [];
    ledger.onChange((c) => changes.push(c.kind));
    const r1 = ledger.reserve(A, SONNET, { requests: 1, tokens: 8_000 }, 60_000);
    const r2 = ledger.reserve(A, SONNET, { requests: 1, tokens: 2_000 }, 60_000);
    if (!r1.ok || !r2.ok) throw new Error('expected reservations');
    expect(ledger.reservedFor(A, SONNET)).toEqual({ count: 2, requests: 2, tokens: 10_000 });
    expect(ledger.release(r1.id)).toBe(true);
    expect(ledger.release(r1.id)).toBe(false);
    ledger.record({ account: A, model: SONNET, inputTokens: 1_500, reservationId: r2.id });
    expect(ledger.reservedFor(A, SONNET)).toEqual({ count: 0, requests: 0, tokens: 0 });
    expect(ledger.release(r2.id)).toBe(false);
    expect(changes.filter((k) => k === 'reservations')).toHaveLength(4);
  });

  it('expire on the clock timer, and lazily when the timer has not run', () => {
    const { clock, ledger } = setup();
    const r = ledger.reserve(A, SONNET, { requests: 1 }, 30_000);
    ledger.reserve(A, SONNET, { requests: 1 }, 90_000);
    expect(r.ok && r.expiresAt).toBe(MON + 30_000);
    clock.advance(29_999);
    expect(ledger.reservedFor(A, SONNET).count).toBe(2);
    clock.advance(1);
    expect(ledger.reservedFor(A, SONNET).count).toBe(1);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(60_000);
    expect(ledger.reservedFor(A, SONNET).count).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('validates amounts and TTLs', () => {
    const { ledger } = setup();
    expect(() => ledger.reserve(A, SONNET, {}, 1000)).toThrow(/at least one request or one token/);
    expect(() => ledger.reserve(A, SONNET, { requests: -1 }, 1000)).toThrow(LedgerInputError);
    expect(() => ledger.reserve(A, SONNET, { requests: 1 }, 0)).toThrow(/TTL/);
  });

  it('stays correct under 50 concurrent reserve/release tasks', async () => {
    const clock = new VirtualClock(MON);
    const ledger = new UsageLedger({
      clock,
      config: { limits: [{ pool: 'claude', window: 'daily', requests: 20 }] },
    });
    let maxHeld = 0;
    let granted = 0;
    let refused = 0;
    const task = async (i: number): Promise<void> => {
      for (let round = 0; round < 10; round++) {
        const account = i % 2 === 0 ? A : B;
        const r = ledger.reserve(account, i % 3 === 0 ? OPUS : SONNET, { requests: 1 }, 10 * 60_000);
        if (!r.ok) {
          refused++;
          await clock.sleep(10 + (i % 7));
          continue;
        }
        granted++;
        const held = ledger.outstandingReservations().length;
        maxHeld = Math.max(maxHeld, held);
        await clock.sleep(5 + ((i * 13 + round) % 17));
        if (round % 2 === 0) ledger.release(r.id);
        else ledger.record({ account, model: SONNET, reservationId: r.id });
      }
    };
    const all = Promise.all(Array.from({ length: 50 }, (_, i) => task(i)));
    await clock.runAll();
    await all;
    expect(granted + refused).toBe(500);
    expect(maxHeld).toBeLessThanOrEqual(20);
    expect(refused).toBeGreaterThan(0);
    expect(ledger.outstandingReservations()).toEqual([]);
    const recorded = ledger.poolUsage(A, 'claude').requests + ledger.poolUsage(B, 'claude').requests;
    // Records and held reservations together never exceeded the limit.
    expect(recorded).toBeLessThanOrEqual(20);
    expect(ledger.reserve(A, SONNET, { requests: 1 }, 1000).ok).toBe(recorded < 20);
  });
});

describe('summary', () => {
  it('is serializable data matching its schema, and an aligned table', () => {
    const { ledger } = setup({ limits: [{ account: A, window: 'daily', requests: 10 }] });
    for (let i = 0; i < 6; i++)
      ledger.record({ account: A, model: SONNET, inputTokens: 1200, outputTokens: 300 });
    ledger.record({ account: B, model: FLASH, inputTokens: 20_000, error: true });
    ledger.noteProviderFraction(B, FLASH, 0.7, MON + 2 * H);
    ledger.reserve(A, OPUS, { requests: 1, tokens: 5000 }, 60_000);
    const s = ledger.summary();
    expect(DailySummarySchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(s.rows.map((r) => [r.account, r.model])).toEqual([
      [A, OPUS],
      [A, SONNET],
      [B, FLASH],
    ]);
    const sonnet = s.rows[1];
    expect(sonnet).toMatchObject({ requests: 6, tokens: 9000, alertsFired: [50] });
    expect(sonnet?.limit).toMatchObject({ limit: 10, used: 6, reserved: 1, remaining: 3, usedPercent: 70 });
    expect(s.rows[0]?.reserved).toEqual({ count: 1, requests: 1, tokens: 5000 });
    expect(s.rows[2]?.provider).toEqual({ remainingFraction: 0.7, resetTime: MON + 2 * H });
    expect(s.pools).toEqual([
      expect.objectContaining({ account: A, pool: 'claude', requests: 6 }),
      expect.objectContaining({ account: B, pool: 'gemini-flash', requests: 1, errors: 1 }),
    ]);
    expect(s.totals).toMatchObject({ requests: 7, errors: 1, alertsFired: 1, reservations: { count: 1 } });

    const text = formatSummaryTable(s);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Usage on 2026-01-05 (UTC) — daily window resets 2026-01-06 00:00 (in 15h 00m)');
    expect(lines[1]).toMatch(
      /^Account\s+Model\s+Requests\s+Input\s+Output\s+Thinking\s+Errors\s+Limit\s+Used\s+Left\s+Provider\s+Alerts\s+Reserved$/,
    );
    const sonnetLine = lines.find((l) => l.includes(SONNET)) ?? '';
    expect(sonnetLine).toMatch(/\b6\s+7200\s+1800\s+0\s+0\s+10 req\/daily\s+70%\s+3\s+-\s+50%/);
    expect(lines.find((l) => l.includes(FLASH))).toContain('70% left');
    // Columns line up: "Requests" ends where every row's request count ends.
    const end = (lines[1] ?? '').indexOf('Requests') + 'Requests'.length;
    for (const l of lines.slice(3, 6)) expect(l.slice(0, end)).toMatch(/\d$/);
  });

  it('says when nothing was recorded', () => {
    expect(formatSummaryTable(setup().ledger.summary())).toContain('No usage recorded today.');
  });
});

describe('a simulated week', () => {
  it('keeps daily, 5-hour and weekly windows, alerts and reservations consistent', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 5, 0, 0));
    const store = new MemoryLedgerStore();
    const config = {
      timeZone: 'Europe/Paris',
      limits: [
        { account: A, window: 'daily', requests: 40 },
        { pool: 'claude', window: 'weekly', tokens: 1_500_000 },
      ],
    };
    let ledger = await UsageLedger.open({ clock, store, config });
    const alerts: LedgerAlert[] = [];
    let days = 0;
    let refusedDaily = 0;
    let total = 0;
    let weekly = ledger.poolUsage(A, 'claude', 'weekly');
    for (let hour = 0; hour < 7 * 24; hour++) {
      ledger.noteProviderWindow(A, 'claude', 'weekly', Date.UTC(2026, 0, 12));
      for (let k = 0; k < 3; k++) {
        const r = ledger.reserve(A, SONNET, { requests: 1, tokens: 4000 }, 5 * 60_000);
        if (!r.ok) {
          if (r.limit.window === 'daily') refusedDaily++;
          continue;
        }
        const fired = ledger.record({
          account: A,
          model: SONNET,
          inputTokens: 3000,
          outputTokens: 500,
          reservationId: r.id,
        });
        alerts.push(...fired);
        total++;
      }
      if (hour === 7 * 24 - 1) weekly = ledger.poolUsage(A, 'claude', 'weekly');
      await clock.advanceAsync(H);
      // Restart the ledger every day at noon UTC.
      if (hour % 24 === 12) {
        await ledger.dispose();
        ledger = await UsageLedger.open({ clock, store, config });
        days++;
      }
    }
    expect(days).toBe(7);
    expect(ledger.outstandingReservations()).toEqual([]);
    // 40 a day, 3 an hour: each Paris day allows 40 of its 72 attempts.
    expect(refusedDaily).toBeGreaterThan(0);
    expect(weekly.requests).toBe(total);
    expect(weekly.tokens).toBe(total * 3500);
    // The provider's weekly window ended at Monday 00:00 UTC: a new one is empty.
    expect(ledger.poolUsage(A, 'claude', 'weekly').requests).toBe(0);
    expect(total * 3500).toBeLessThanOrEqual(1_500_000);
    // Daily alerts: each level at most once per Paris day.
    const daily = alerts.filter((a) => a.window === 'daily');
    const perDay = new Map<string, number[]>();
    for (const a of daily)
      perDay.set(String(a.resetTime), [...(perDay.get(String(a.resetTime)) ?? []), a.level]);
    for (const levels of perDay.values()) expect(new Set(levels).size).toBe(levels.length);
    expect(perDay.size).toBeGreaterThanOrEqual(6);
    // The weekly token limit fired its thresholds once each.
    const weeklyLevels = alerts.filter((a) => a.window === 'weekly').map((a) => a.level);
    expect(weeklyLevels).toEqual([...new Set(weeklyLevels)]);
    expect(weeklyLevels.length).toBeGreaterThan(0);
    await ledger.dispose();
  });
});

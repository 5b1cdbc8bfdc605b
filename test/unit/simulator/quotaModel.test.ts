import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import { QuotaModel, WINDOW_MS, type QuotaModelConfig } from '../../../src/simulator/quotaModel';
import { quotaModelFor } from '../../../src/simulator/core';
import { quotaExhausted } from '../../../src/simulator/googleErrors';
import { loadScenario } from '../../../src/simulator/scenarios';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const H5 = 5 * HOUR;
// Four hours into a 5-hour window aligned to the epoch (phase 0), early January 2026.
const START = Math.floor(Date.UTC(2026, 0, 5, 9, 0, 0) / H5) * H5 + 4 * HOUR;

function model(
  clock: VirtualClock,
  overrides: Partial<QuotaModelConfig['accounts'][number]> = {},
): QuotaModel {
  return new QuotaModel(
    {
      capacities: {
        FREE: { claude: { '5h': 4, weekly: 10 }, 'gemini-pro': { '5h': 10, weekly: 100 } },
        PRO: {},
        ULTRA: {},
      },
      accounts: [{ id: 'a', tier: 'FREE', phases: { '5h': 0, weekly: 0 }, initial: {}, ...overrides }],
    },
    clock,
  );
}

describe('QuotaModel', () => {
  it('depletes a pool shared by its models and reports min(5h, weekly)', () => {
    const clock = new VirtualClock(START);
    const q = model(clock);
    expect(q.consume('a', 'claude-sonnet-4-6', 1).ok).toBe(true);
    expect(q.consume('a', 'claude-opus-4-6-thinking', 1).ok).toBe(true);
    const r = q.readModel('a', 'claude-sonnet-4-6-thinking');
    expect(r?.windows['5h'].fraction).toBeCloseTo(0.5);
    expect(r?.windows.weekly.fraction).toBeCloseTo(0.8);
    expect(r?.fraction).toBeCloseTo(0.5);
    expect(r?.binding).toBe('5h');
    // Another pool is untouched.
    expect(q.readModel('a', 'gemini-3-pro-high')?.fraction).toBe(1);
  });

  it('answers a typed exhaustion with the 5h reset time and delay, and resets at the boundary', () => {
    const clock = new VirtualClock(START);
    const q = model(clock);
    for (let i = 0; i < 4; i++) expect(q.consume('a', 'claude-sonnet-4-6', 1).ok).toBe(true);
    const v = q.consume('a', 'claude-sonnet-4-6', 1);
    const boundary = START + HOUR;
    expect(v).toEqual({
      ok: false,
      kind: 'QUOTA_EXHAUSTED',
      pool: 'claude',
      model: 'claude-sonnet-4-6',
      window: '5h',
      resetTime: boundary,
      resetDelayMs: HOUR,
    });
    clock.advance(HOUR - 1);
    expect(q.check('a', 'claude-sonnet-4-6').ok).toBe(false);
    clock.advance(1);
    expect(q.check('a', 'claude-sonnet-4-6').ok).toBe(true);
    expect(q.readWindow('a', 'claude', '5h').fraction).toBe(1);
    // The weekly window kept its use.
    expect(q.readWindow('a', 'claude', 'weekly').fraction).toBeCloseTo(0.6);
  });

  it('honours each window phase', () => {
    const clock = new VirtualClock(START);
    const q = model(clock, { phases: { '5h': 2 * HOUR, weekly: 3 * DAY } });
    const h5 = q.windowBounds('a', '5h');
    // Unshifted, START is 4h into its window; shifted by 2h it is 2h into one.
    expect(h5.start).toBe(START - 2 * HOUR);
    expect(h5.end).toBe(START + 3 * HOUR);
    clock.advance(3 * HOUR);
    expect(q.windowBounds('a', '5h').start).toBe(START + 3 * HOUR);
    const wk = q.windowBounds('a', 'weekly');
    expect((wk.start - 3 * DAY) % WINDOW_MS.weekly).toBe(0);
    expect(wk.start).toBeLessThanOrEqual(START);
    expect(wk.end).toBeGreaterThan(START);
    expect(wk.end - wk.start).toBe(7 * DAY);
  });

  it('when the weekly window is spent, the delay runs to the weekly reset even after the 5h reset', () => {
    const clock = new VirtualClock(START);
    const q = model(clock, { initial: { claude: { weekly: 0 } } });
    const v = q.check('a', 'claude-sonnet-4-6');
    const weekEnd = q.windowBounds('a', 'weekly').end;
    expect(v.ok).toBe(false);
    if (v.ok || v.kind !== 'QUOTA_EXHAUSTED') throw new Error('expected exhaustion');
    expect(v.window).toBe('weekly');
    expect(v.resetTime).toBe(weekEnd);
    expect(v.resetDelayMs).toBe(weekEnd - START);
    clock.advance(5 * HOUR);
    expect(q.check('a', 'claude-sonnet-4-6').ok).toBe(false);
    clock.advance(weekEnd - clock.now());
    expect(q.check('a', 'claude-sonnet-4-6').ok).toBe(true);
  });

  it('when both windows are spent, reports the later reset', () => {
    const clock = new VirtualClock(START);
    const q = model(clock, { initial: { claude: { '5h': 0, weekly: 0 } } });
    const v = q.check('a', 'claude-sonnet-4-6');
    if (v.ok || v.kind !== 'QUOTA_EXHAUSTED') throw new Error('expected exhaustion');
    expect(v.resetTime).toBe(q.windowBounds('a', 'weekly').end);
  });

  it('starts from the initial fractions and never goes below zero', () => {
    const clock = new VirtualClock(START);
    const q = model(clock, { initial: { 'gemini-pro': { '5h': 0.25 } } });
    expect(q.readPool('a', 'gemini-pro').fraction).toBeCloseTo(0.25);
    expect(q.consume('a', 'gemini-pro-agent', 100).ok).toBe(true); // the last request may overshoot
    expect(q.readWindow('a', 'gemini-pro', '5h').remaining).toBe(0);
    expect(q.readWindow('a', 'gemini-pro', 'weekly').remaining).toBe(0);
    expect(q.consume('a', 'gemini-pro-agent', 1).ok).toBe(false);
  });

  it('summarises buckets per group as the minimum over its pools', () => {
    const clock = new VirtualClock(START);
    const q = model(clock, { initial: { claude: { '5h': 0.3 }, 'gemini-pro': { weekly: 0.9 } } });
    const s = q.summary('a');
    expect(s.map((b) => b.bucketId)).toEqual(['gemini-weekly', 'gemini-5h', '3p-weekly', '3p-5h']);
    expect(s.find((b) => b.bucketId === '3p-5h')?.fraction).toBeCloseTo(0.3);
    // Pools without capacity for the tier (gpt-oss, flash, image here) do not drag the buckets to 0.
    expect(s.find((b) => b.bucketId === '3p-weekly')?.fraction).toBe(1);
    expect(s.find((b) => b.bucketId === 'gemini-weekly')?.fraction).toBeCloseTo(0.9);
    expect(s.find((b) => b.bucketId === 'gemini-5h')?.models).toContain('gemini-3-flash');
  });

  it('rejects unknown models and accounts with typed results', () => {
    const q = model(new VirtualClock(START));
    expect(q.check('a', 'nope')).toEqual({ ok: false, kind: 'UNKNOWN_MODEL', model: 'nope' });
    expect(q.check('b', 'claude-sonnet-4-6')).toEqual({ ok: false, kind: 'UNKNOWN_ACCOUNT', account: 'b' });
  });

  it('drains to a fraction in chosen windows and resets to the initial state', () => {
    const q = model(new VirtualClock(START));
    q.setFraction('a', 'claude', 0.5, ['weekly']);
    expect(q.readWindow('a', 'claude', 'weekly').fraction).toBeCloseTo(0.5);
    expect(q.readWindow('a', 'claude', '5h').fraction).toBe(1);
    q.resetToInitial();
    expect(q.readPool('a', 'claude').fraction).toBe(1);
  });
});

describe('429 body from the model', () => {
  it('carries consistent delays computed from the reset', () => {
    const now = Date.UTC(2026, 7, 2, 0, 3, 46, 820);
    const reset = now + (149 * 3600 + 50 * 60 + 20) * 1000 + 180;
    const e = quotaExhausted('gemini-pro-agent', now, reset);
    expect(e.httpStatus).toBe(429);
    expect(e.body.error.message).toBe(
      'You have exhausted your capacity on this model. Resets in 149h50m20s.',
    );
    expect(e.body.error.details).toEqual([
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'QUOTA_EXHAUSTED',
        domain: 'cloudcode-pa.googleapis.com',
        metadata: {
          model: 'gemini-pro-agent',
          quotaResetDelay: '149h50m20.18s',
          quotaResetTimeStamp: '2026-08-08T05:54:07Z',
        },
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '539420.18s' },
    ]);
  });
});

describe('quotaModelFor', () => {
  it('builds the model of a scenario with its start fractions, in-process', () => {
    const q = quotaModelFor(loadScenario('demo'), new VirtualClock(START));
    expect(q.readPool('free-1', 'claude').fraction).toBeCloseTo(0.08);
    expect(q.readWindow('free-1', 'claude', '5h').capacity).toBe(20);
    expect(q.readPool('ultra', 'gemini-pro').windows.weekly.fraction).toBeCloseTo(0.64);
  });
});

import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/clock';
import { VirtualClock } from '../../../src/core/clock';
import { ConfigError } from '../../../src/core/errors';
import { QuotaHistory } from '../../../src/core/history';

const MIN = 60_000;
const START = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('QuotaHistory', () => {
  it('keeps aligned series per account × pool, in order of first appearance', () => {
    const clock = new VirtualClock(START);
    const h = new QuotaHistory(clock);
    h.record([
      { account: 'a', pool: 'claude', remaining: 0.9 },
      { account: 'a', pool: 'flash', remaining: null },
    ]);
    clock.advance(MIN);
    h.record([
      { account: 'a', pool: 'claude', remaining: 0.8 },
      { account: 'b', pool: 'claude', remaining: 1.5 },
    ]);
    expect(h.series()).toEqual({
      times: [START, START + MIN],
      lines: [
        { account: 'a', pool: 'claude', values: [0.9, 0.8] },
        { account: 'a', pool: 'flash', values: [null, null] },
        // Clamped to 0..1; absent before it first appeared.
        { account: 'b', pool: 'claude', values: [null, 1] },
      ],
    });
  });

  it('merges samples within one resolution slot, the latest values winning', () => {
    const clock = new VirtualClock(START);
    const h = new QuotaHistory(clock, { resolutionMs: MIN });
    for (let i = 0; i < 5; i++) {
      h.record([{ account: 'a', pool: 'p', remaining: 1 - i / 10 }]);
      clock.advance(10_000);
    }
    const s = h.series();
    expect(s.times).toEqual([START + 40_000]);
    expect(s.lines[0]!.values).toEqual([0.6]);
    clock.advance(20_000);
    h.record([{ account: 'a', pool: 'p', remaining: 0.5 }]);
    expect(h.series().lines[0]!.values).toEqual([0.6, 0.5]);
  });

  it('is bounded by point count and by age', () => {
    const clock = new VirtualClock(START);
    const h = new QuotaHistory(clock, { maxPoints: 3, maxAgeMs: 10 * MIN, resolutionMs: 0 });
    for (let i = 0; i < 10; i++) {
      h.record([{ account: 'a', pool: 'p', remaining: i / 10 }]);
      clock.advance(MIN);
    }
    expect(h.size).toBe(3);
    expect(h.series().lines[0]!.values).toEqual([0.7, 0.8, 0.9]);
    // Nothing recorded for longer than maxAgeMs: the history ages out even without new samples.
    clock.advance(20 * MIN);
    expect(h.series()).toEqual({ times: [], lines: [] });
  });

  it('starts over when the clock goes back instead of drawing a loop', () => {
    let now = START;
    const clock: Clock = {
      now: () => now,
      setTimeout: () => ({ cancel: () => undefined }),
      sleep: () => Promise.resolve(),
    };
    const h = new QuotaHistory(clock);
    h.record([{ account: 'a', pool: 'p', remaining: 0.5 }]);
    now -= 5 * MIN;
    h.record([{ account: 'a', pool: 'p', remaining: 0.4 }]);
    expect(h.series().times).toEqual([START - 5 * MIN]);
    h.clear();
    expect(h.size).toBe(0);
  });

  it('refuses bad options with what to use instead', () => {
    expect(() => new QuotaHistory(new VirtualClock(), { maxPoints: 1 })).toThrow(ConfigError);
    expect(() => new QuotaHistory(new VirtualClock(), { maxAgeMs: -1 })).toThrow(/positive maxAgeMs/);
  });
});

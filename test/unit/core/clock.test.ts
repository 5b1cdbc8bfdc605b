import { describe, expect, it } from 'vitest';
import { SystemClock, VirtualClock } from '../../../src/core/clock';

describe('VirtualClock', () => {
  it('starts where it is told and moves only when advanced', () => {
    const clock = new VirtualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
  });

  it('fires timers in time order, ties in the order set, each at its due time', () => {
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 10);
    clock.advance(25);
    expect(seen).toEqual(['a@10', 'b@10']);
    clock.advance(5);
    expect(seen).toEqual(['a@10', 'b@10', 'c@30']);
  });

  it('fires timers that timers set, when they fall inside the advance', () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.now());
      clock.setTimeout(() => seen.push(clock.now()), 5);
    }, 10);
    clock.advance(20);
    expect(seen).toEqual([10, 15]);
  });

  it('cancelled timers never fire', () => {
    const clock = new VirtualClock(0);
    let fired = false;
    const t = clock.setTimeout(() => (fired = true), 10);
    t.cancel();
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refuses to go backwards', () => {
    expect(() => new VirtualClock(0).advance(-1)).toThrow(/backwards/);
  });

  it('sleep resolves on advanceAsync and lets async chains run between timers', async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        seen.push(clock.now());
      }
    };
    const done = run();
    await clock.advanceAsync(1_000);
    await done;
    expect(seen).toEqual([100, 200, 300]);
  });

  it('sleep rejects with the abort reason', async () => {
    const clock = new VirtualClock(0);
    const ctl = new AbortController();
    const p = clock.sleep(100, ctl.signal);
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runAll drains timers within the limit', async () => {
    const clock = new VirtualClock(0);
    let n = 0;
    const tick = (): void => {
      n++;
      if (n < 5) clock.setTimeout(tick, 1_000);
    };
    clock.setTimeout(tick, 1_000);
    await clock.runAll();
    expect(n).toBe(5);
    expect(clock.now()).toBe(5_000);
  });
});

describe('SystemClock', () => {
  it('reads the wall clock and fires real timers', async () => {
    const clock = new SystemClock();
    const before = Date.now();
    expect(Math.abs(clock.now() - before)).toBeLessThan(1_000);
    await clock.sleep(5);
    expect(clock.now()).toBeGreaterThanOrEqual(before);
  });
});

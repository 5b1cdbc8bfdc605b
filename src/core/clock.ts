/**
 * Time for the engine. Everything in `src/core/` reads the time and sets timers only through a
 * `Clock`, so the same code runs on the wall clock in the product and on a virtual clock in tests,
 * the simulator and the 429 study (a simulated week in a second).
 *
 * This file is the one place in core allowed to touch the system clock and the host's timers.
 */

export interface TimerHandle {
  /** Cancels the timer; calling it twice, or after the timer fired, is harmless. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (0 or negative: as soon as possible). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Resolves after `ms` milliseconds; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

function sleepWith(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wall clock and the host's timers. Timers do not keep the process alive. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = setTimeout(fn, Math.max(0, ms));
    // Node's timers have unref(); a browser's (the dashboard bundle) are plain numbers.
    (handle as unknown as { unref?: () => void }).unref?.();
    return { cancel: () => clearTimeout(handle) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }
}

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets promise continuations (and anything they schedule with the host) run before the next timer. */
function yieldToHost(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (immediate) return new Promise<void>((resolve) => void immediate(resolve));
  return Promise.resolve();
}

/**
 * A clock that moves only when told to. Timers fire in time order (ties in the order they were set),
 * each seeing `now()` equal to its due time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: VirtualTimer[] = [];

  constructor(start: number | Date = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: VirtualTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.insert(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  /** Number of timers still waiting. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Due time of the next live timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.timers.find((t) => !t.cancelled)?.at;
  }

  /**
   * Moves time forward by `ms` synchronously, firing due timers in order. Promise continuations
   * scheduled by a timer run only after this returns; use `advanceAsync` for async code.
   */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError(`VirtualClock cannot go backwards (advance by ${ms} ms)`);
    const target = this.current + ms;
    for (let t = this.takeDue(target); t; t = this.takeDue(target)) {
      this.current = t.at;
      t.fn();
    }
    this.current = target;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order and letting pending promise work settle
   * before and after each one, so async code driven by timers behaves as it would in real time.
   */
  async advanceAsync(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError(`VirtualClock cannot go backwards (advance by ${ms} ms)`);
    const target = this.current + ms;
    await yieldToHost();
    for (let t = this.takeDue(target); t; t = this.takeDue(target)) {
      this.current = t.at;
      t.fn();
      await yieldToHost();
    }
    this.current = target;
    await yieldToHost();
  }

  /** Jumps to an absolute time (not earlier than now), as `advanceAsync`. */
  async advanceTo(time: number): Promise<void> {
    await this.advanceAsync(time - this.current);
  }

  /** Runs timers until none is left or `limitMs` of virtual time has passed. */
  async runAll(limitMs = 365 * 24 * 3_600_000): Promise<void> {
    const end = this.current + limitMs;
    for (let at = this.nextTimerAt(); at !== undefined && at <= end; at = this.nextTimerAt()) {
      await this.advanceTo(at);
    }
  }

  private insert(timer: VirtualTimer): void {
    // Binary search keeps the list sorted by (at, seq).
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.timers[mid] as VirtualTimer;
      if (m.at < timer.at || (m.at === timer.at && m.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
  }

  private takeDue(target: number): VirtualTimer | undefined {
    while (this.timers.length > 0) {
      const first = this.timers[0] as VirtualTimer;
      if (first.cancelled) {
        this.timers.shift();
        continue;
      }
      if (first.at > target) return undefined;
      this.timers.shift();
      return first;
    }
    return undefined;
  }
}

/** Simulated time for demos: simulated = start + (real elapsed × scale). */
import type { Clock, TimerHandle } from '../core/clock';

export class ScaledClock implements Clock {
  private readonly realStart = Date.now();

  constructor(
    readonly scale: number,
    private readonly simStart: number = Date.now(),
  ) {
    if (!(scale > 0)) throw new RangeError(`time scale must be a positive number, got ${scale}`);
  }

  now(): number {
    return Math.floor(this.simStart + (Date.now() - this.realStart) * this.scale);
  }

  /** `ms` of simulated time, i.e. ms / scale of real time. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = setTimeout(fn, Math.max(0, ms) / this.scale);
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        timer.cancel();
        reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

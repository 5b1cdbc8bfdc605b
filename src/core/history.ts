/**
 * A bounded in-memory history of remaining quota over time, one series per account × pool, for the
 * dashboard's chart. Pure: it reads the time only from the injected Clock and keeps at most
 * `maxPoints` samples no older than `maxAgeMs`. Samples closer together than `resolutionMs` share
 * one point (the latest values win), so a burst of snapshot changes does not flood the history.
 */
import { z } from 'zod';
import type { Clock } from './clock';
import { ConfigError } from './errors';

export interface HistorySample {
  account: string;
  pool: string;
  /** Remaining fraction 0..1, or null when unknown. */
  remaining: number | null;
}

export interface HistoryLine {
  account: string;
  pool: string;
  /** One value per entry of `times` (null: unknown, or the series did not exist then). */
  values: Array<number | null>;
}

/** Aligned series: every line has one value per time (what a uPlot chart takes). */
export interface HistorySeries {
  times: number[];
  lines: HistoryLine[];
}

export const HistoryOptionsSchema = z.strictObject({
  maxPoints: z.number().int().min(2).max(100_000).default(720),
  maxAgeMs: z
    .number()
    .int()
    .positive()
    .default(24 * 3_600_000),
  resolutionMs: z.number().int().nonnegative().default(60_000),
});
export type HistoryOptions = z.input<typeof HistoryOptionsSchema>;

interface Point {
  t: number;
  slot: number;
  values: Map<string, number | null>;
}

const SEP = '\u0000';
const keyOf = (account: string, pool: string): string => `${account}${SEP}${pool}`;

export class QuotaHistory {
  private readonly points: Point[] = [];
  private readonly options: z.output<typeof HistoryOptionsSchema>;

  constructor(
    private readonly clock: Clock,
    options: HistoryOptions = {},
  ) {
    const parsed = HistoryOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new ConfigError(
        `Quota history options are invalid (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): ` +
          'use maxPoints >= 2, a positive maxAgeMs and a non-negative resolutionMs.',
      );
    }
    this.options = parsed.data;
  }

  /** Records the current remaining quota of every account × pool at the clock's time. */
  record(samples: readonly HistorySample[]): void {
    const now = this.clock.now();
    const values = new Map<string, number | null>();
    for (const s of samples) {
      const v =
        s.remaining === null || !Number.isFinite(s.remaining) ? null : Math.min(1, Math.max(0, s.remaining));
      values.set(keyOf(s.account, s.pool), v);
    }
    const slot = this.options.resolutionMs > 0 ? Math.floor(now / this.options.resolutionMs) : now;
    const last = this.points.at(-1);
    if (last && now < last.t) {
      // The clock went back (e.g. the system time changed): start over rather than draw a loop.
      this.points.length = 0;
    }
    const tail = this.points.at(-1);
    if (tail && tail.slot === slot) {
      tail.t = now;
      tail.values = values;
    } else {
      this.points.push({ t: now, slot, values });
    }
    this.trim(now);
  }

  /** Drops everything (e.g. after the accounts were replaced). */
  clear(): void {
    this.points.length = 0;
  }

  get size(): number {
    return this.points.length;
  }

  /** The aligned series, lines in order of first appearance; points older than `maxAgeMs` left out. */
  series(): HistorySeries {
    this.trim(this.clock.now());
    const order: string[] = [];
    const seen = new Set<string>();
    for (const p of this.points) {
      for (const k of p.values.keys()) {
        if (!seen.has(k)) {
          seen.add(k);
          order.push(k);
        }
      }
    }
    return {
      times: this.points.map((p) => p.t),
      lines: order.map((k) => {
        const [account = '', pool = ''] = k.split(SEP);
        return { account, pool, values: this.points.map((p) => p.values.get(k) ?? null) };
      }),
    };
  }

  private trim(now: number): void {
    const oldest = now - this.options.maxAgeMs;
    let drop = 0;
    while (drop < this.points.length && (this.points[drop] as Point).t < oldest) drop++;
    drop = Math.max(drop, this.points.length - this.options.maxPoints);
    if (drop > 0) this.points.splice(0, drop);
  }
}

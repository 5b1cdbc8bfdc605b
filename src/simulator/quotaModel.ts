/**
 * The simulator's quota model, separate from HTTP so the engine's 429 study can drive it in-process
 * on a virtual clock.
 *
 * Every account has, per model POOL (models in a pool share quota), two windows: a 5-hour one and a
 * weekly one. Each window has a capacity (per tier), its own phase (start offset from the epoch), and
 * a used amount that resets at the window boundary. A request is allowed while both windows of its
 * pool have something left; its cost is then deducted from both (never below zero). A pool's
 * remaining fraction is the minimum over its two windows.
 *
 * Summary buckets ("Gemini Models", "Claude and GPT models") report, per window, the minimum over
 * the pools of their group that the tier has any capacity for.
 */
import type { Clock } from '../core/clock';
import { DEFAULT_CATALOG, SUMMARY_GROUP_NAMES, type CatalogModel, type SummaryGroup } from '../core/catalog';

export type QuotaWindowKind = '5h' | 'weekly';
export const QUOTA_WINDOWS: readonly QuotaWindowKind[] = ['5h', 'weekly'];
export const WINDOW_MS: Readonly<Record<QuotaWindowKind, number>> = Object.freeze({
  '5h': 5 * 3_600_000,
  weekly: 7 * 24 * 3_600_000,
});

export type SimTier = 'FREE' | 'PRO' | 'ULTRA';

/** Capacity per pool per window, in cost units (requests or tokens). */
export type PoolCapacities = Readonly<Record<string, Readonly<Record<QuotaWindowKind, number>>>>;

export interface QuotaAccountConfig {
  id: string;
  tier: SimTier;
  /** Start offset of each window's cycle, in ms from the epoch. */
  phases: Readonly<Record<QuotaWindowKind, number>>;
  /** Remaining fraction per pool per window at start; missing means full. */
  initial: Readonly<Record<string, Readonly<Partial<Record<QuotaWindowKind, number>>>>>;
}

export interface QuotaModelConfig {
  capacities: Readonly<Record<SimTier, PoolCapacities>>;
  accounts: readonly QuotaAccountConfig[];
  catalog?: readonly CatalogModel[];
}

export interface WindowReading {
  window: QuotaWindowKind;
  capacity: number;
  used: number;
  remaining: number;
  /** 0..1 */
  fraction: number;
  windowStart: number;
  resetTime: number;
}

export interface PoolReading {
  pool: string;
  /** min over the two windows */
  fraction: number;
  /** Reset of the window that binds (lower fraction; the 5-hour one on ties). */
  resetTime: number;
  binding: QuotaWindowKind;
  windows: Record<QuotaWindowKind, WindowReading>;
}

export interface SummaryBucketReading {
  bucketId: string;
  window: QuotaWindowKind;
  group: SummaryGroup;
  groupName: string;
  models: string[];
  fraction: number;
  resetTime: number;
}

export type ConsumeResult =
  | { ok: true; pool: string; fraction: number }
  | {
      ok: false;
      kind: 'QUOTA_EXHAUSTED';
      pool: string;
      model: string;
      /** The window that keeps the pool closed longest. */
      window: QuotaWindowKind;
      /** When the pool has quota again (the latest reset among exhausted windows). */
      resetTime: number;
      resetDelayMs: number;
    }
  | { ok: false; kind: 'UNKNOWN_MODEL'; model: string }
  | { ok: false; kind: 'UNKNOWN_ACCOUNT'; account: string };

interface WindowState {
  windowStart: number;
  used: number;
}

export class QuotaModel {
  private readonly catalog: readonly CatalogModel[];
  private readonly models: Map<string, CatalogModel>;
  private readonly accounts = new Map<string, QuotaAccountConfig>();
  private readonly state = new Map<string, WindowState>();

  constructor(
    private readonly config: QuotaModelConfig,
    private readonly clock: Clock,
  ) {
    this.catalog = config.catalog ?? DEFAULT_CATALOG;
    this.models = new Map(this.catalog.map((m) => [m.id, m]));
    for (const a of config.accounts) this.accounts.set(a.id, a);
    this.resetToInitial();
  }

  /** Every pool in the catalog, in catalog order. */
  pools(): string[] {
    return [...new Set(this.catalog.map((m) => m.pool))];
  }

  accountIds(): string[] {
    return [...this.accounts.keys()];
  }

  poolOfModel(model: string): string | undefined {
    return this.models.get(model)?.pool;
  }

  /** Puts every account back to the scenario's starting fractions, in the windows current now. */
  resetToInitial(): void {
    this.state.clear();
    for (const account of this.accounts.values()) {
      for (const pool of this.pools()) {
        for (const window of QUOTA_WINDOWS) {
          const capacity = this.capacity(account, pool, window);
          const fraction = account.initial[pool]?.[window] ?? 1;
          this.state.set(key(account.id, pool, window), {
            windowStart: this.windowStart(account, window),
            used: capacity * (1 - clamp01(fraction)),
          });
        }
      }
    }
  }

  /** Start and end of the window that contains `at` (default now). */
  windowBounds(
    accountId: string,
    window: QuotaWindowKind,
    at = this.clock.now(),
  ): { start: number; end: number } {
    const account = this.account(accountId);
    const start = this.windowStart(account, window, at);
    return { start, end: start + WINDOW_MS[window] };
  }

  readWindow(accountId: string, pool: string, window: QuotaWindowKind): WindowReading {
    const account = this.account(accountId);
    const s = this.current(account, pool, window);
    const capacity = this.capacity(account, pool, window);
    const remaining = Math.max(0, capacity - s.used);
    return {
      window,
      capacity,
      used: s.used,
      remaining,
      fraction: capacity > 0 ? remaining / capacity : 0,
      windowStart: s.windowStart,
      resetTime: s.windowStart + WINDOW_MS[window],
    };
  }

  readPool(accountId: string, pool: string): PoolReading {
    const h5 = this.readWindow(accountId, pool, '5h');
    const wk = this.readWindow(accountId, pool, 'weekly');
    const binding: QuotaWindowKind = wk.fraction < h5.fraction ? 'weekly' : '5h';
    const b = binding === '5h' ? h5 : wk;
    return { pool, fraction: b.fraction, resetTime: b.resetTime, binding, windows: { '5h': h5, weekly: wk } };
  }

  /** Remaining fraction of a model = its pool's min(5h, weekly); undefined for unknown models. */
  readModel(accountId: string, model: string): PoolReading | undefined {
    const pool = this.poolOfModel(model);
    return pool === undefined ? undefined : this.readPool(accountId, pool);
  }

  /** The 5-hour and weekly buckets of each summary group, weekly first as the real API lists them. */
  summary(accountId: string): SummaryBucketReading[] {
    const out: SummaryBucketReading[] = [];
    for (const group of ['gemini', 'third-party'] as const) {
      const members = this.catalog.filter((m) => m.summaryGroup === group);
      const pools = [...new Set(members.map((m) => m.pool))];
      for (const window of ['weekly', '5h'] as const) {
        // Pools the tier has no capacity for are left out (they would pin the bucket at 0).
        const all = pools.map((p) => this.readWindow(accountId, p, window));
        const readings = all.some((r) => r.capacity > 0) ? all.filter((r) => r.capacity > 0) : all;
        const min = readings.reduce(
          (acc, r) => (r.fraction < acc.fraction ? r : acc),
          readings[0] as WindowReading,
        );
        out.push({
          bucketId: `${group === 'gemini' ? 'gemini' : '3p'}-${window}`,
          window,
          group,
          groupName: SUMMARY_GROUP_NAMES[group],
          models: members.map((m) => m.id),
          fraction: min ? min.fraction : 1,
          resetTime: min ? min.resetTime : this.windowBounds(accountId, window).end,
        });
      }
    }
    return out;
  }

  /** Would a request for `model` be served now? Deducts nothing. */
  check(accountId: string, model: string): ConsumeResult {
    if (!this.accounts.has(accountId)) return { ok: false, kind: 'UNKNOWN_ACCOUNT', account: accountId };
    const pool = this.poolOfModel(model);
    if (pool === undefined) return { ok: false, kind: 'UNKNOWN_MODEL', model };
    const reading = this.readPool(accountId, pool);
    const exhausted = QUOTA_WINDOWS.map((w) => reading.windows[w]).filter((w) => w.remaining <= 0);
    if (exhausted.length === 0) return { ok: true, pool, fraction: reading.fraction };
    const latest = exhausted.reduce((a, b) => (b.resetTime > a.resetTime ? b : a));
    return {
      ok: false,
      kind: 'QUOTA_EXHAUSTED',
      pool,
      model,
      window: latest.window,
      resetTime: latest.resetTime,
      resetDelayMs: latest.resetTime - this.clock.now(),
    };
  }

  /**
   * Serves a request of `cost` units: allowed while both windows of the model's pool have something
   * left (the last request may overshoot; remaining never goes below zero), else a typed exhaustion.
   */
  consume(accountId: string, model: string, cost: number): ConsumeResult {
    const verdict = this.check(accountId, model);
    if (!verdict.ok) return verdict;
    this.deduct(accountId, verdict.pool, cost);
    return { ok: true, pool: verdict.pool, fraction: this.readPool(accountId, verdict.pool).fraction };
  }

  /** Deducts `cost` from both windows of a pool without checking (usage known after the answer). */
  deduct(accountId: string, pool: string, cost: number): void {
    const account = this.account(accountId);
    for (const window of QUOTA_WINDOWS) {
      const s = this.current(account, pool, window);
      s.used = Math.min(this.capacity(account, pool, window), s.used + Math.max(0, cost));
    }
  }

  /** Sets a pool's remaining fraction in the given windows (both by default). */
  setFraction(
    accountId: string,
    pool: string,
    fraction: number,
    windows: readonly QuotaWindowKind[] = QUOTA_WINDOWS,
  ): void {
    const account = this.account(accountId);
    for (const window of windows) {
      const s = this.current(account, pool, window);
      s.used = this.capacity(account, pool, window) * (1 - clamp01(fraction));
    }
  }

  private account(id: string): QuotaAccountConfig {
    const a = this.accounts.get(id);
    if (!a) throw new Error(`unknown simulator account "${id}"`);
    return a;
  }

  private capacity(account: QuotaAccountConfig, pool: string, window: QuotaWindowKind): number {
    return this.config.capacities[account.tier][pool]?.[window] ?? 0;
  }

  private windowStart(account: QuotaAccountConfig, window: QuotaWindowKind, at = this.clock.now()): number {
    const len = WINDOW_MS[window];
    const phase = account.phases[window];
    return Math.floor((at - phase) / len) * len + phase;
  }

  /** The state of the window current now, rolled over (used reset to 0) when a boundary passed. */
  private current(account: QuotaAccountConfig, pool: string, window: QuotaWindowKind): WindowState {
    const k = key(account.id, pool, window);
    const start = this.windowStart(account, window);
    let s = this.state.get(k);
    if (!s) {
      s = { windowStart: start, used: 0 };
      this.state.set(k, s);
    } else if (s.windowStart !== start) {
      s.windowStart = start;
      s.used = 0;
    }
    return s;
  }
}

function key(account: string, pool: string, window: QuotaWindowKind): string {
  return `${account}\u0000${pool}\u0000${window}`;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

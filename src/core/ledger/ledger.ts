/**
 * The usage ledger: what each account × model used per window (the local day, the provider's
 * 5-hour and weekly windows), the user's limits, threshold alerts fired once per window,
 * reservations for parallel work, and the daily summary. Pure engine code: time and timers come
 * from the injected `Clock`, persistence goes through a `LedgerStore`.
 *
 * Concurrency: every public method is synchronous and runs to completion on the event loop, so
 * concurrent callers (e.g. 50 parallel tasks reserving and releasing) see each check-and-reserve as
 * one atomic step. Saving is batched and asynchronous; ops recorded while a save runs are kept
 * and applied on top of what the save wrote.
 *
 * Durability: with a store that keeps a journal (`LedgerStore.append`), every change is appended
 * within `journalDelayMs` (default 100 ms) or as soon as `journalBatch` changes wait, so a hard
 * crash loses at most that much; the journal is folded into the snapshot when the store says it
 * is due and when the ledger is disposed. Without a journal the whole document is rewritten at
 * most every `saveDelayMs`.
 *
 * Reservations live in memory only: they are short-lived (a TTL) and belong to the running proxy.
 */
import { poolOf } from '../catalog';
import type { Clock, TimerHandle } from '../clock';
import type { z } from 'zod';
import { formatIssues } from '../errors';
import { AccountIdSchema, EpochMsSchema, FractionSchema, QuotaWindowSchema } from '../types';
import type { QuotaWindow } from '../types';
import { alertId } from './alerts';
import {
  parseLedgerConfig,
  parseLimits,
  parseThresholds,
  ReserveAmountSchema,
  UsageRecordSchema,
} from './schema';
import type {
  DailySummary,
  LedgerAlert,
  LedgerConfig,
  Limit,
  LimitStatus,
  PoolRow,
  Reserved,
  ReserveResult,
  SummaryRow,
  UsageRecordInput,
  UsageTotals,
} from './schema';
import type { LedgerOp, ResolvedRecord } from './state';
import { dailyInstanceKey, LedgerState, mergeOpsIntoDoc, pairKey, providerInstanceKey } from './state';
import type { AppendResult, LedgerStore, StoreProblem, StoreProblemKind, UpdateResult } from './store';
import { dayWindow } from './timeWindows';

const DAY_MS = 24 * 3_600_000;
const MAX_TTL_MS = 7 * DAY_MS;
const MAX_PROBLEMS = 50;

/** Bad input to a ledger method (a caller bug or a bad admin-API request); says what was wrong. */
export class LedgerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerInputError';
  }
}

export type LedgerProblemKind = StoreProblemKind | 'listener';

export interface LedgerProblem extends Omit<StoreProblem, 'kind'> {
  kind: LedgerProblemKind;
  at: number;
}

export type LedgerChange =
  | { kind: 'usage' | 'reservations' | 'provider'; account: string; model: string; at: number }
  | { kind: 'alert'; alert: LedgerAlert; at: number }
  | { kind: 'limits' | 'loaded' | 'saved'; at: number }
  | { kind: 'problem'; problem: LedgerProblem; at: number };

export interface Disposable {
  dispose(): void;
}

export interface Reservation {
  id: string;
  account: string;
  model: string;
  pool: string;
  requests: number;
  tokens: number;
  createdAt: number;
  expiresAt: number;
}

export interface UsageLedgerOptions {
  clock: Clock;
  /** Where the ledger persists; without one it lives in memory only. */
  store?: LedgerStore;
  /** Settings: time zone, alert thresholds, limits… (validated; see `LedgerConfigSchema`). */
  config?: unknown;
}

interface Usage {
  requests: number;
  tokens: number;
  resetTime: number | null;
}

function emptyTotals(): UsageTotals {
  return {
    requests: 0,
    inputTokens: 0,
    outputTokens: 0,
    thinkingTokens: 0,
    tokens: 0,
    errors: 0,
    firstAt: null,
    lastAt: null,
  };
}

function addTotals(t: UsageTotals, c: Omit<UsageTotals, 'tokens'>): void {
  t.requests += c.requests;
  t.inputTokens += c.inputTokens;
  t.outputTokens += c.outputTokens;
  t.thinkingTokens += c.thinkingTokens;
  t.tokens += c.inputTokens + c.outputTokens + c.thinkingTokens;
  t.errors += c.errors;
  if (c.firstAt !== null) t.firstAt = t.firstAt === null ? c.firstAt : Math.min(t.firstAt, c.firstAt);
  if (c.lastAt !== null) t.lastAt = t.lastAt === null ? c.lastAt : Math.max(t.lastAt, c.lastAt);
}

function matches(limit: Limit, account: string, pool: string): boolean {
  return (
    (limit.account === undefined || limit.account === account) &&
    (limit.pool === undefined || limit.pool === pool)
  );
}

/** "daily requests limit of model group claude on account a@x", etc. */
export function describeLimitScope(limit: Limit, unit: 'requests' | 'tokens'): string {
  const where =
    limit.account !== undefined && limit.pool !== undefined
      ? `model group ${limit.pool} on account ${limit.account}`
      : limit.account !== undefined
        ? `account ${limit.account}`
        : limit.pool !== undefined
          ? `model group ${limit.pool} (all accounts)`
          : 'all accounts';
  return `${limit.window} ${unit} limit of ${where}`;
}

function roundPct(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new LedgerInputError(`Invalid ${what}: ${formatIssues(r.error.issues)}`);
  return r.data;
}

export class UsageLedger {
  private readonly clock: Clock;
  private readonly store: LedgerStore | undefined;
  private config: LedgerConfig;
  private state: LedgerState;
  private pending: LedgerOp[] = [];
  private readonly reservations = new Map<string, Reservation>();
  private reservationSeq = 0;
  private readonly reservationPrefix: string;
  private expiryTimer: TimerHandle | null = null;
  private expiryAt = Number.POSITIVE_INFINITY;
  private saveTimer: TimerHandle | null = null;
  /** The armed save timer fires at once (a full batch is waiting). */
  private saveTimerUrgent = false;
  /** Changes were appended to the journal since the last compaction. */
  private journalDirty = false;
  private saving: Promise<void> | null = null;
  private saveFailures = 0;
  private lastProblemMessage: string | null = null;
  private disposed = false;
  private readonly problemList: LedgerProblem[] = [];
  private readonly alertListeners = new Set<(alert: LedgerAlert) => void>();
  private readonly changeListeners = new Set<(change: LedgerChange) => void>();

  /** A ledger in memory (or on top of `store`, without loading it: use `open` to load). */
  constructor(options: UsageLedgerOptions) {
    this.clock = options.clock;
    this.store = options.store;
    this.config = parseLedgerConfig(options.config ?? {});
    this.state = new LedgerState(this.config.timeZone);
    this.reservationPrefix = `rsv-${options.clock.now().toString(36)}-`;
  }

  /**
   * Creates a ledger and loads what its store holds. Never throws for storage trouble: an unusable
   * file is reported in `problems` (and through `onChange`) and the ledger starts empty.
   */
  static async open(options: UsageLedgerOptions): Promise<UsageLedger> {
    const ledger = new UsageLedger(options);
    await ledger.load();
    return ledger;
  }

  /** Problems met so far (newest last, at most 50). */
  get problems(): readonly LedgerProblem[] {
    return this.problemList;
  }

  get timeZone(): string {
    return this.config.timeZone;
  }

  get thresholds(): readonly number[] {
    return this.config.thresholds;
  }

  /** Settings limits and API limits together: every one of them is enforced. */
  get limits(): readonly Limit[] {
    return [...this.config.limits, ...(this.state.apiLimits?.limits ?? [])];
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  /** Called once per alert, after it is recorded. */
  onAlert(listener: (alert: LedgerAlert) => void): Disposable {
    this.alertListeners.add(listener);
    return { dispose: () => void this.alertListeners.delete(listener) };
  }

  /** Called after every change: usage, reservations, provider readings, alerts, limits, load, save, problems. */
  onChange(listener: (change: LedgerChange) => void): Disposable {
    this.changeListeners.add(listener);
    return { dispose: () => void this.changeListeners.delete(listener) };
  }

  // ---------------------------------------------------------------------------------------------
  // Usage

  /**
   * Records one finished request (successful or failed). Releases `reservationId` when given.
   * Returns the alerts this record fired.
   */
  record(input: UsageRecordInput): LedgerAlert[] {
    const r = validate(UsageRecordSchema, input, 'usage record');
    const now = this.clock.now();
    if (r.reservationId !== undefined) this.dropReservation(r.reservationId);
    const record: ResolvedRecord = {
      account: r.account,
      model: r.model,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      thinkingTokens: r.thinkingTokens,
      error: r.error,
      at: r.at ?? now,
    };
    this.applyOp({ type: 'record', record });
    const alerts = this.evaluateAlerts(r.account, r.model, now);
    this.emit({ kind: 'usage', account: r.account, model: r.model, at: now });
    if (r.reservationId !== undefined)
      this.emit({ kind: 'reservations', account: r.account, model: r.model, at: now });
    this.publishAlerts(alerts, now);
    return alerts;
  }

  /** Usage of account × model in the window running now (`daily`, `5h` or `weekly`). */
  usage(account: string, model: string, window: 'daily' | QuotaWindow = 'daily'): UsageTotals {
    const now = this.clock.now();
    const t = emptyTotals();
    const list =
      window === 'daily'
        ? this.state.byInstance.get(dailyInstanceKey(dayWindow(now, this.config.timeZone).start))
        : this.providerInstance(account, poolOf(model), window, now);
    for (const c of list ?? []) if (c.account === account && c.model === model) addTotals(t, c);
    return t;
  }

  /** Usage of one model group (quota pool) of an account in the window running now. */
  poolUsage(account: string, pool: string, window: 'daily' | QuotaWindow = 'daily'): UsageTotals {
    const now = this.clock.now();
    const t = emptyTotals();
    const list =
      window === 'daily'
        ? this.state.byInstance.get(dailyInstanceKey(dayWindow(now, this.config.timeZone).start))
        : this.providerInstance(account, pool, window, now);
    for (const c of list ?? []) if (c.account === account && poolOf(c.model) === pool) addTotals(t, c);
    return t;
  }

  /** The provider's window of account × pool as the ledger knows it (learned or estimated). */
  providerWindow(
    account: string,
    pool: string,
    window: QuotaWindow,
  ): { start: number; resetTime: number; estimated: boolean } | undefined {
    const w = this.state.activeProviderWindow(account, pool, window, this.clock.now());
    return w ? { start: w.start, resetTime: w.resetTime, estimated: w.estimated } : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // What the provider says

  /** The provider said when the 5-hour / weekly window of an account's model group resets. */
  noteProviderWindow(account: string, pool: string, window: QuotaWindow, resetTime: number): void {
    validate(AccountIdSchema, account, 'account');
    if (typeof pool !== 'string' || pool.length === 0)
      throw new LedgerInputError('Invalid pool: must not be empty');
    validate(QuotaWindowSchema, window, 'provider window (use "5h" or "weekly")');
    validate(EpochMsSchema, resetTime, 'reset time (epoch milliseconds)');
    const now = this.clock.now();
    this.applyOp({ type: 'providerWindow', account, pool, window, resetTime, at: now });
    this.emit({ kind: 'provider', account, model: pool, at: now });
  }

  /**
   * The provider's remaining fraction (0..1) of account × model and when it resets (null: unknown).
   * Used for alerts when no user limit covers the model; exhaustion (0 left) always alerts.
   */
  noteProviderFraction(
    account: string,
    model: string,
    remainingFraction: number,
    resetTime: number | null,
  ): LedgerAlert[] {
    validate(AccountIdSchema, account, 'account');
    if (typeof model !== 'string' || model.length === 0)
      throw new LedgerInputError('Invalid model: must not be empty');
    validate(FractionSchema, remainingFraction, 'remaining fraction (0..1)');
    validate(EpochMsSchema.nullable(), resetTime, 'reset time (epoch milliseconds or null)');
    const now = this.clock.now();
    this.applyOp({
      type: 'providerFraction',
      fraction: { account, model, remainingFraction, resetTime, at: now },
    });
    const alerts = this.evaluateAlerts(account, model, now);
    this.emit({ kind: 'provider', account, model, at: now });
    this.publishAlerts(alerts, now);
    return alerts;
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration

  /**
   * Replaces the limits of one source: `settings` (from the user's settings, not persisted here)
   * or `api` (set at run time, persisted in the ledger). Throws `ConfigError` on invalid input.
   */
  setLimits(input: unknown, source: 'settings' | 'api' = 'api'): void {
    const limits = parseLimits(input);
    const now = this.clock.now();
    if (source === 'settings') this.config = { ...this.config, limits };
    else this.applyOp({ type: 'limits', updatedAt: now, limits });
    this.emit({ kind: 'limits', at: now });
  }

  /** Replaces the alert thresholds (percent, ascending, each in (0, 100]). Throws `ConfigError`. */
  setThresholds(input: unknown): void {
    this.config = { ...this.config, thresholds: parseThresholds(input) };
    this.emit({ kind: 'limits', at: this.clock.now() });
  }

  /** Applies new settings (time zone, thresholds, settings limits…). Throws `ConfigError`. */
  configure(input: unknown): void {
    const next = parseLedgerConfig(input);
    if (next.timeZone !== this.config.timeZone) {
      const now = this.clock.now();
      const s = LedgerState.fromDoc(this.state.toDoc(now), next.timeZone);
      this.state = s;
    }
    this.config = next;
    this.emit({ kind: 'limits', at: this.clock.now() });
  }

  // ---------------------------------------------------------------------------------------------
  // Reservations

  /**
   * Reserves quota for work about to start. Reserved amounts count as used in every limit check
   * until released, recorded (`record({ reservationId })`) or expired after `ttlMs`. Refuses, with
   * the reason, when a limit that covers account × model would be exceeded.
   */
  reserve(account: string, model: string, amount: unknown, ttlMs: number): ReserveResult {
    validate(AccountIdSchema, account, 'account');
    if (typeof model !== 'string' || model.length === 0)
      throw new LedgerInputError('Invalid model: must not be empty');
    const a = validate(ReserveAmountSchema, amount ?? {}, 'reservation amount');
    if (!Number.isInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new LedgerInputError(
        `Invalid reservation TTL ${String(ttlMs)}: use whole milliseconds in 1..${MAX_TTL_MS}`,
      );
    }
    const now = this.clock.now();
    if (now >= this.expiryAt) this.sweepExpired(now);
    const pool = poolOf(model);
    const want = { requests: a.requests ?? 0, tokens: a.tokens ?? 0 };
    for (const limit of this.limits) {
      if (!matches(limit, account, pool)) continue;
      const used = this.usedFor(limit, now);
      const reserved = this.reservedIn(limit);
      for (const unit of ['requests', 'tokens'] as const) {
        const max = limit[unit];
        if (max === undefined) continue;
        const taken = used[unit] + reserved[unit];
        const over = want[unit] > 0 ? taken + want[unit] > max : taken >= max;
        if (!over) continue;
        const reset =
          used.resetTime === null
            ? 'its reset time is unknown'
            : `it resets at ${new Date(used.resetTime).toISOString()}`;
        return {
          ok: false,
          reason:
            `Refused: the ${describeLimitScope(limit, unit)} is ${max}; ${used[unit]} used and ${reserved[unit]} reserved, ` +
            `so ${Math.max(0, max - taken)} left but ${want[unit] > 0 ? want[unit] : 'some'} requested. ` +
            `Use another account or model, raise the limit, or wait: ${reset}.`,
          limit,
          unit,
          used: used[unit],
          reserved: reserved[unit],
          requested: want[unit],
          resetTime: used.resetTime,
        };
      }
    }
    const id = this.reservationPrefix + (++this.reservationSeq).toString(36);
    const expiresAt = now + ttlMs;
    this.reservations.set(id, { id, account, model, pool, ...want, createdAt: now, expiresAt });
    if (expiresAt < this.expiryAt) this.armExpiry(expiresAt, now);
    this.emit({ kind: 'reservations', account, model, at: now });
    return { ok: true, id, expiresAt };
  }

  /** Releases a reservation; false when it is unknown (already released, recorded or expired). */
  release(id: string): boolean {
    const r = this.dropReservation(id);
    if (!r) return false;
    this.emit({ kind: 'reservations', account: r.account, model: r.model, at: this.clock.now() });
    return true;
  }

  /** What is reserved right now for account × model: how many reservations, requests and tokens. */
  reservedFor(account: string, model: string): Reserved {
    const now = this.clock.now();
    if (now >= this.expiryAt) this.sweepExpired(now);
    const out: Reserved = { count: 0, requests: 0, tokens: 0 };
    for (const r of this.reservations.values()) {
      if (r.account === account && r.model === model) {
        out.count++;
        out.requests += r.requests;
        out.tokens += r.tokens;
      }
    }
    return out;
  }

  /** Every outstanding reservation (copies). */
  outstandingReservations(): Reservation[] {
    const now = this.clock.now();
    if (now >= this.expiryAt) this.sweepExpired(now);
    return [...this.reservations.values()].map((r) => ({ ...r }));
  }

  // ---------------------------------------------------------------------------------------------
  // Limits and the summary

  /** Status of every limit that covers account × model right now, most binding first. */
  limitStatus(account: string, model: string): LimitStatus[] {
    const now = this.clock.now();
    const pool = poolOf(model);
    const out: LimitStatus[] = [];
    for (const limit of this.limits) {
      if (!matches(limit, account, pool)) continue;
      const used = this.usedFor(limit, now);
      const reserved = this.reservedIn(limit);
      for (const unit of ['requests', 'tokens'] as const) {
        const max = limit[unit];
        if (max === undefined) continue;
        out.push({
          window: limit.window,
          unit,
          limit: max,
          used: used[unit],
          reserved: reserved[unit],
          remaining: Math.max(0, max - used[unit] - reserved[unit]),
          usedPercent: roundPct(((used[unit] + reserved[unit]) / max) * 100),
          resetTime: used.resetTime,
          scope: describeLimitScope(limit, unit),
        });
      }
    }
    return out.sort((x, y) => y.usedPercent - x.usedPercent);
  }

  /** Today's usage per account × model and per model group, with limits, alerts and reservations. */
  summary(): DailySummary {
    const now = this.clock.now();
    if (now >= this.expiryAt) this.sweepExpired(now);
    const day = dayWindow(now, this.config.timeZone);
    const rows = new Map<string, SummaryRow>();
    const row = (account: string, model: string): SummaryRow => {
      const key = pairKey(account, model);
      let r = rows.get(key);
      if (!r) {
        r = {
          ...emptyTotals(),
          account,
          model,
          pool: poolOf(model),
          limit: null,
          provider: null,
          alertsFired: [],
          reserved: { count: 0, requests: 0, tokens: 0 },
        };
        rows.set(key, r);
      }
      return r;
    };
    const pools = new Map<string, PoolRow>();
    const totals = emptyTotals();
    for (const c of this.state.byInstance.get(dailyInstanceKey(day.start)) ?? []) {
      addTotals(row(c.account, c.model), c);
      addTotals(totals, c);
      const pool = poolOf(c.model);
      const pk = pairKey(c.account, pool);
      let p = pools.get(pk);
      if (!p) {
        p = { ...emptyTotals(), account: c.account, pool };
        pools.set(pk, p);
      }
      addTotals(p, c);
    }
    const reservedTotal: Reserved = { count: 0, requests: 0, tokens: 0 };
    for (const res of this.reservations.values()) {
      const r = row(res.account, res.model);
      r.reserved.count++;
      r.reserved.requests += res.requests;
      r.reserved.tokens += res.tokens;
      reservedTotal.count++;
      reservedTotal.requests += res.requests;
      reservedTotal.tokens += res.tokens;
    }
    for (const f of this.state.fractions.values()) {
      if (f.resetTime !== null && f.resetTime <= now) continue;
      row(f.account, f.model).provider = { remainingFraction: f.remainingFraction, resetTime: f.resetTime };
    }
    let alertsFired = 0;
    for (const a of this.state.fired.values()) {
      // Alerts of windows still running (a daily alert until midnight, a provider one until its reset).
      const until = a.resetTime ?? day.end;
      if (until <= now || a.firedAt < now - DAY_MS * 8) continue;
      const r = row(a.account, a.model);
      if (!r.alertsFired.includes(a.level)) r.alertsFired.push(a.level);
      alertsFired++;
    }
    for (const r of rows.values()) {
      r.alertsFired.sort((x, y) => x - y);
      r.limit = this.limitStatus(r.account, r.model)[0] ?? null;
    }
    const byName = <T extends { account: string }>(x: T, y: T, k: (v: T) => string): number =>
      x.account < y.account ? -1 : x.account > y.account ? 1 : k(x) < k(y) ? -1 : k(x) > k(y) ? 1 : 0;
    return {
      generatedAt: now,
      timeZone: this.config.timeZone,
      day: day.key,
      dayStart: day.start,
      resetTime: day.end,
      rows: [...rows.values()].sort((x, y) => byName(x, y, (v) => v.model)),
      pools: [...pools.values()].sort((x, y) => byName(x, y, (v) => v.pool)),
      totals: { ...totals, alertsFired, reservations: reservedTotal },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Persistence

  /** Writes pending changes now (waits for a save already running). Never throws. */
  async flush(): Promise<void> {
    if (!this.store) return;
    this.saveTimer?.cancel();
    this.saveTimer = null;
    this.saveTimerUrgent = false;
    while (this.saving) await this.saving;
    if (this.pending.length === 0) return;
    const run = this.saveBatch(this.store);
    this.saving = run;
    try {
      await run;
    } finally {
      if (this.saving === run) this.saving = null;
    }
  }

  /**
   * Folds the store's journal into its snapshot now (after writing what is pending). Stores
   * without a journal just save. Never throws.
   */
  async compact(): Promise<void> {
    await this.flush();
    const store = this.store;
    if (!store?.append) return;
    while (this.saving) await this.saving;
    const run = this.compactJournal(store);
    this.saving = run;
    try {
      await run;
    } finally {
      if (this.saving === run) this.saving = null;
    }
  }

  /**
   * Stops timers and writes what is pending (folding the journal into the snapshot). Usage
   * recorded afterwards is kept in memory only.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    this.expiryAt = Number.POSITIVE_INFINITY;
    await this.flush();
    if (this.journalDirty) await this.compact();
    this.disposed = true;
    this.saveTimer?.cancel();
    this.saveTimer = null;
    this.saveTimerUrgent = false;
  }

  private async load(): Promise<void> {
    if (!this.store) return;
    const now = this.clock.now();
    try {
      const r = await this.store.load();
      this.state = LedgerState.fromDoc(r.doc, this.config.timeZone);
      for (const op of r.journal ?? []) this.state.apply(op);
      for (const op of this.pending) this.state.apply(op);
      for (const p of r.problems) {
        const startsEmpty =
          r.doc === null &&
          (p.kind === 'corrupt' ||
            p.kind === 'unsupported-version' ||
            p.kind === 'permission' ||
            p.kind === 'io');
        this.report({
          ...p,
          message: startsEmpty ? `${p.message} The usage ledger starts empty.` : p.message,
        });
      }
    } catch (err) {
      this.report({
        kind: 'io',
        message: `Could not read the usage ledger at ${this.store.location}: ${err instanceof Error ? err.message : String(err)}. The usage ledger starts empty.`,
      });
    }
    this.emit({ kind: 'loaded', at: now });
  }

  private async saveBatch(store: LedgerStore): Promise<void> {
    if (store.append) {
      await this.appendBatch(store, store.append.bind(store));
      return;
    }
    const batch = this.pending;
    this.pending = [];
    const zone = this.config.timeZone;
    const now = this.clock.now();
    const retention = this.config.retentionDays * DAY_MS;
    let result: UpdateResult;
    try {
      result = await store.update((current, journal) =>
        mergeOpsIntoDoc(current, journal.length > 0 ? [...journal, ...batch] : batch, zone, now, retention),
      );
    } catch (err) {
      result = {
        ok: false,
        problem: {
          kind: 'io',
          message: `Could not save the usage ledger: ${err instanceof Error ? err.message : String(err)}`,
        },
      };
    }
    if (!result.ok) {
      this.pending = batch.concat(this.pending);
      this.saveFailures++;
      this.report(result.problem);
      this.scheduleSave();
      return;
    }
    this.saveFailures = 0;
    this.lastProblemMessage = null;
    for (const p of result.problems) this.report(p);
    // Adopt what was written (it includes other processes' records), then re-apply newer ops.
    const s = LedgerState.fromDoc(result.doc, zone);
    for (const op of this.pending) s.apply(op);
    this.state = s;
    this.emit({ kind: 'saved', at: this.clock.now() });
  }

  /** Appends the pending changes to the store's journal; adopts what other processes appended. */
  private async appendBatch(
    store: LedgerStore,
    append: (ops: readonly LedgerOp[]) => Promise<AppendResult>,
  ): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    let result: AppendResult;
    try {
      result = await append(batch);
    } catch (err) {
      result = {
        ok: false,
        problem: {
          kind: 'io',
          message: `Could not save the usage ledger: ${err instanceof Error ? err.message : String(err)}`,
        },
      };
    }
    if (!result.ok) {
      this.pending = batch.concat(this.pending);
      this.saveFailures++;
      this.report(result.problem);
      this.scheduleSave();
      return;
    }
    if (batch.length > 0) this.journalDirty = true;
    this.saveFailures = 0;
    this.lastProblemMessage = null;
    for (const p of result.problems) this.report(p);
    if (result.kind === 'reset') {
      // Another process compacted the journal: rebuild from the durable state, then our changes.
      const s = LedgerState.fromDoc(result.doc ?? null, this.config.timeZone);
      for (const op of result.ops) s.apply(op);
      for (const op of batch) s.apply(op);
      for (const op of this.pending) s.apply(op);
      this.state = s;
    } else {
      for (const op of result.ops) this.state.apply(op);
    }
    this.emit({ kind: 'saved', at: this.clock.now() });
    if (result.compactDue) await this.compactJournal(store);
  }

  /** Folds the journal into the snapshot (the store's `update`) and adopts the result. */
  private async compactJournal(store: LedgerStore): Promise<void> {
    const zone = this.config.timeZone;
    const now = this.clock.now();
    const retention = this.config.retentionDays * DAY_MS;
    let result: UpdateResult;
    try {
      result = await store.update((current, journal) =>
        mergeOpsIntoDoc(current, journal, zone, now, retention),
      );
    } catch (err) {
      result = {
        ok: false,
        problem: {
          kind: 'io',
          message: `Could not compact the usage ledger: ${err instanceof Error ? err.message : String(err)}`,
        },
      };
    }
    if (!result.ok) {
      // The journal keeps every change; compaction is tried again when the store next asks.
      this.report(result.problem);
      return;
    }
    this.journalDirty = false;
    for (const p of result.problems) this.report(p);
    const s = LedgerState.fromDoc(result.doc, zone);
    for (const op of this.pending) s.apply(op);
    this.state = s;
    this.emit({ kind: 'saved', at: this.clock.now() });
  }

  private scheduleSave(): void {
    if (!this.store || this.disposed) return;
    const journaling = this.store.append !== undefined;
    const urgent = journaling && this.saveFailures === 0 && this.pending.length >= this.config.journalBatch;
    if (this.saveTimer && (this.saveTimerUrgent || !urgent)) return;
    this.saveTimer?.cancel();
    const base = journaling ? this.config.journalDelayMs : this.config.saveDelayMs;
    const delay = urgent
      ? 0
      : this.saveFailures === 0
        ? base
        : Math.min(60_000, Math.max(base, 1_000) * 2 ** Math.min(this.saveFailures, 6));
    this.saveTimerUrgent = urgent;
    this.saveTimer = this.clock.setTimeout(() => {
      this.saveTimer = null;
      this.saveTimerUrgent = false;
      void this.flush();
    }, delay);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private applyOp(op: LedgerOp): void {
    this.state.apply(op);
    if (this.store && !this.disposed) {
      this.pending.push(op);
      this.scheduleSave();
    }
  }

  private report(problem: StoreProblem | Omit<LedgerProblem, 'at'>): void {
    if (problem.message === this.lastProblemMessage) return;
    this.lastProblemMessage = problem.message;
    const p: LedgerProblem = { ...problem, at: this.clock.now() };
    this.problemList.push(p);
    if (this.problemList.length > MAX_PROBLEMS) this.problemList.shift();
    this.emit({ kind: 'problem', problem: p, at: p.at });
  }

  private emit(change: LedgerChange): void {
    for (const l of this.changeListeners) {
      try {
        l(change);
      } catch (err) {
        if (change.kind !== 'problem') {
          this.report({
            kind: 'listener',
            message: `A usage-ledger listener failed: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
      }
    }
  }

  private publishAlerts(alerts: readonly LedgerAlert[], now: number): void {
    for (const a of alerts) {
      for (const l of this.alertListeners) {
        try {
          l(a);
        } catch (err) {
          this.report({
            kind: 'listener',
            message: `A usage-alert listener failed: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
      }
      this.emit({ kind: 'alert', alert: a, at: now });
    }
  }

  private providerInstance(account: string, pool: string, window: QuotaWindow, now: number) {
    const w = this.state.activeProviderWindow(account, pool, window, now);
    return w ? this.state.byInstance.get(providerInstanceKey(window, account, pool, w.start)) : undefined;
  }

  /** Recorded usage counted against `limit` in its window running at `now`. */
  private usedFor(limit: Limit, now: number): Usage {
    const out: Usage = { requests: 0, tokens: 0, resetTime: null };
    const add = (c: {
      requests: number;
      inputTokens: number;
      outputTokens: number;
      thinkingTokens: number;
    }): void => {
      out.requests += c.requests;
      out.tokens += c.inputTokens + c.outputTokens + c.thinkingTokens;
    };
    if (limit.window === 'daily') {
      const day = dayWindow(now, this.config.timeZone);
      out.resetTime = day.end;
      for (const c of this.state.byInstance.get(dailyInstanceKey(day.start)) ?? []) {
        if (limit.account !== undefined && limit.account !== c.account) continue;
        if (limit.pool === undefined || limit.pool === poolOf(c.model)) add(c);
      }
      return out;
    }
    for (const w of this.state.providerWindows.values()) {
      if (w.window !== limit.window || !matches(limit, w.account, w.pool) || now >= w.resetTime) continue;
      out.resetTime = out.resetTime === null ? w.resetTime : Math.min(out.resetTime, w.resetTime);
      for (const c of this.state.byInstance.get(providerInstanceKey(w.window, w.account, w.pool, w.start)) ??
        [])
        add(c);
    }
    return out;
  }

  private reservedIn(limit: Limit): { requests: number; tokens: number } {
    const out = { requests: 0, tokens: 0 };
    for (const r of this.reservations.values()) {
      if (matches(limit, r.account, r.pool)) {
        out.requests += r.requests;
        out.tokens += r.tokens;
      }
    }
    return out;
  }

  /** Fires every level newly crossed for account × model; records each fired alert. */
  private evaluateAlerts(account: string, model: string, now: number): LedgerAlert[] {
    const pool = poolOf(model);
    const levels = [...new Set([...this.config.thresholds, 100])];
    const fired: LedgerAlert[] = [];
    const fire = (
      source: LedgerAlert['source'],
      window: LedgerAlert['window'],
      windowKey: number,
      usedPercent: number,
      detail: Pick<LedgerAlert, 'used' | 'limit' | 'remaining' | 'unit' | 'resetTime' | 'scope'>,
      only100 = false,
    ): void => {
      for (const level of levels) {
        if (usedPercent < level || (only100 && level < 100)) continue;
        const id = alertId(account, model, source, window, windowKey, level);
        if (this.state.fired.has(id)) continue;
        const alert: LedgerAlert = {
          id,
          account,
          model,
          level,
          exhausted: level >= 100,
          ...detail,
          source,
          window,
          firedAt: now,
        };
        if (alert.limit === undefined) delete alert.limit;
        this.applyOp({ type: 'alert', alert });
        fired.push(alert);
      }
    };

    // The user's limits, most binding per window.
    let limited = false;
    const best = new Map<
      Limit['window'],
      {
        pct: number;
        unit: 'requests' | 'tokens';
        used: number;
        max: number;
        resetTime: number | null;
        scope: string;
      }
    >();
    for (const limit of this.limits) {
      if (!matches(limit, account, pool)) continue;
      limited = true;
      const used = this.usedFor(limit, now);
      for (const unit of ['requests', 'tokens'] as const) {
        const max = limit[unit];
        if (max === undefined) continue;
        const pct = roundPct((used[unit] / max) * 100);
        const prev = best.get(limit.window);
        if (!prev || pct > prev.pct) {
          best.set(limit.window, {
            pct,
            unit,
            used: used[unit],
            max,
            resetTime: used.resetTime,
            scope: describeLimitScope(limit, unit),
          });
        }
      }
    }
    for (const [window, b] of best) {
      const windowKey =
        window === 'daily'
          ? dayWindow(now, this.config.timeZone).start
          : (this.state.activeProviderWindow(account, pool, window, now)?.start ?? b.resetTime ?? 0);
      fire('limit', window, windowKey, b.pct, {
        used: b.used,
        limit: b.max,
        remaining: Math.max(0, b.max - b.used),
        unit: b.unit,
        resetTime: b.resetTime,
        scope: b.scope,
      });
    }

    // The provider's fraction: every level when no user limit applies, else only exhaustion.
    const f = this.state.fractions.get(pairKey(account, model));
    if (f && (f.resetTime === null || f.resetTime > now)) {
      const usedPercent = roundPct((1 - f.remainingFraction) * 100);
      fire(
        'provider',
        'provider',
        f.resetTime ?? dayWindow(now, this.config.timeZone).start,
        usedPercent,
        {
          used: usedPercent,
          remaining: roundPct(f.remainingFraction * 100),
          unit: 'percent',
          resetTime: f.resetTime,
          scope: `provider quota of ${model}`,
        },
        limited,
      );
    }
    return fired;
  }

  private dropReservation(id: string): Reservation | undefined {
    const r = this.reservations.get(id);
    if (r) this.reservations.delete(id);
    return r;
  }

  private sweepExpired(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    const expired: Reservation[] = [];
    for (const r of this.reservations.values()) {
      if (r.expiresAt <= now) expired.push(r);
      else if (r.expiresAt < next) next = r.expiresAt;
    }
    for (const r of expired) this.reservations.delete(r.id);
    this.expiryTimer?.cancel();
    this.expiryTimer = null;
    this.expiryAt = Number.POSITIVE_INFINITY;
    if (next !== Number.POSITIVE_INFINITY && !this.disposed) this.armExpiry(next, now);
    for (const r of expired) this.emit({ kind: 'reservations', account: r.account, model: r.model, at: now });
  }

  private armExpiry(at: number, now: number): void {
    this.expiryTimer?.cancel();
    this.expiryAt = at;
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expiryTimer = null;
      this.sweepExpired(this.clock.now());
    }, at - now);
  }
}

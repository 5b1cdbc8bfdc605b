/**
 * The ledger's data and the pure operations on it. A `LedgerState` is built from a persisted
 * document, changed only by applying `LedgerOp`s, and turned back into a document. The same ops
 * that change the in-memory state are replayed onto the file's current content when saving
 * (read-merge-write), so two processes sharing one file add their records up instead of
 * overwriting each other.
 */
import { poolOf } from '../catalog';
import type { QuotaWindow } from '../types';
import type { Counter, LedgerAlert, LedgerDoc, Limit, ProviderFraction, ProviderWindow } from './schema';
import { LEDGER_DOC_VERSION } from './schema';
import { dayWindow } from './timeWindows';

export const WINDOW_MS: Readonly<Record<QuotaWindow, number>> = Object.freeze({
  '5h': 5 * 3_600_000,
  weekly: 7 * 24 * 3_600_000,
});

export const PROVIDER_WINDOWS: readonly QuotaWindow[] = ['5h', 'weekly'];

/** A usage record with every field resolved. */
export interface ResolvedRecord {
  account: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  thinkingTokens: number;
  error: boolean;
  at: number;
}

export type LedgerOp =
  | { type: 'record'; record: ResolvedRecord }
  | {
      type: 'providerWindow';
      account: string;
      pool: string;
      window: QuotaWindow;
      resetTime: number;
      at: number;
    }
  | { type: 'providerFraction'; fraction: ProviderFraction }
  | { type: 'alert'; alert: LedgerAlert }
  | { type: 'limits'; updatedAt: number; limits: Limit[] };

const SEP = '\u0000';

export function pairKey(account: string, model: string): string {
  return account + SEP + model;
}

function counterKey(account: string, model: string, window: string, start: number): string {
  return account + SEP + model + SEP + window + SEP + start;
}

export function dailyInstanceKey(start: number): string {
  return 'daily' + SEP + start;
}

export function providerInstanceKey(
  window: QuotaWindow,
  account: string,
  pool: string,
  start: number,
): string {
  return window + SEP + account + SEP + pool + SEP + start;
}

function providerWindowKey(account: string, pool: string, window: QuotaWindow): string {
  return account + SEP + pool + SEP + window;
}

export class LedgerState {
  readonly counters = new Map<string, Counter>();
  /** Counters of one window instance: every account × model of a day, or one provider window's. */
  readonly byInstance = new Map<string, Counter[]>();
  readonly providerWindows = new Map<string, ProviderWindow>();
  readonly fractions = new Map<string, ProviderFraction>();
  readonly fired = new Map<string, LedgerAlert>();
  apiLimits: { updatedAt: number; limits: Limit[] } | null = null;

  constructor(readonly timeZone: string) {}

  static fromDoc(doc: LedgerDoc | null, timeZone: string): LedgerState {
    const s = new LedgerState(timeZone);
    if (!doc) return s;
    for (const c of doc.counters) s.mergeCounter(c);
    for (const w of doc.providerWindows) {
      const key = providerWindowKey(w.account, w.pool, w.window);
      const prev = s.providerWindows.get(key);
      if (!prev || prev.start < w.start) s.providerWindows.set(key, { ...w });
    }
    for (const f of doc.providerFractions) {
      const key = pairKey(f.account, f.model);
      const prev = s.fractions.get(key);
      if (!prev || prev.at <= f.at) s.fractions.set(key, { ...f });
    }
    for (const a of doc.firedAlerts) if (!s.fired.has(a.id)) s.fired.set(a.id, a);
    s.apiLimits = doc.limits ? { updatedAt: doc.limits.updatedAt, limits: [...doc.limits.limits] } : null;
    return s;
  }

  toDoc(savedAt: number): LedgerDoc {
    return {
      version: LEDGER_DOC_VERSION,
      savedAt,
      timeZone: this.timeZone,
      counters: [...this.counters.values()].map((c) => ({ ...c })),
      providerWindows: [...this.providerWindows.values()].map((w) => ({ ...w })),
      providerFractions: [...this.fractions.values()].map((f) => ({ ...f })),
      firedAlerts: [...this.fired.values()],
      limits: this.apiLimits
        ? { updatedAt: this.apiLimits.updatedAt, limits: [...this.apiLimits.limits] }
        : null,
    };
  }

  apply(op: LedgerOp): void {
    switch (op.type) {
      case 'record':
        this.applyRecord(op.record);
        return;
      case 'providerWindow':
        this.noteProviderWindow(op.account, op.pool, op.window, op.resetTime, op.at);
        return;
      case 'providerFraction': {
        const key = pairKey(op.fraction.account, op.fraction.model);
        const prev = this.fractions.get(key);
        if (!prev || prev.at <= op.fraction.at) this.fractions.set(key, { ...op.fraction });
        return;
      }
      case 'alert':
        if (!this.fired.has(op.alert.id)) this.fired.set(op.alert.id, op.alert);
        return;
      case 'limits':
        if (!this.apiLimits || this.apiLimits.updatedAt <= op.updatedAt) {
          this.apiLimits = { updatedAt: op.updatedAt, limits: [...op.limits] };
        }
        return;
    }
  }

  applyRecord(r: ResolvedRecord): void {
    const day = dayWindow(r.at, this.timeZone);
    this.bump(r, 'daily', day.start, day.end, dailyInstanceKey(day.start));
    const pool = poolOf(r.model);
    for (const w of PROVIDER_WINDOWS) {
      const pw = this.ensureProviderWindow(r.account, pool, w, r.at);
      this.bump(r, w, pw.start, pw.resetTime, providerInstanceKey(w, r.account, pool, pw.start));
    }
  }

  /** The provider window instance of account × pool running at `at`, if any (no change made). */
  activeProviderWindow(
    account: string,
    pool: string,
    window: QuotaWindow,
    at: number,
  ): ProviderWindow | undefined {
    const w = this.providerWindows.get(providerWindowKey(account, pool, window));
    return w && at < w.resetTime ? w : undefined;
  }

  /**
   * The provider said the window of account × pool resets at `resetTime`. While our current
   * instance is still running it is the same window (its reset time gets corrected); otherwise a
   * new instance starts.
   */
  noteProviderWindow(
    account: string,
    pool: string,
    window: QuotaWindow,
    resetTime: number,
    at: number,
  ): void {
    if (resetTime <= at) return; // a reset in the past says nothing about the running window
    const key = providerWindowKey(account, pool, window);
    const cur = this.providerWindows.get(key);
    if (cur && at < cur.resetTime && at >= cur.start) {
      if (cur.resetTime === resetTime && !cur.estimated) return;
      cur.resetTime = resetTime;
      cur.estimated = false;
      for (const c of this.byInstance.get(providerInstanceKey(window, account, pool, cur.start)) ?? []) {
        c.end = resetTime;
      }
      return;
    }
    const earliest = cur ? Math.max(cur.resetTime, cur.start + 1) : 0;
    const start = Math.min(at, Math.max(resetTime - WINDOW_MS[window], earliest));
    this.providerWindows.set(key, { account, pool, window, start, resetTime, estimated: false });
  }

  /** Drops finished windows and alerts older than the retention. */
  prune(now: number, retentionMs: number): void {
    const cutoff = now - retentionMs;
    for (const [key, c] of this.counters) {
      if (c.end < cutoff) {
        this.counters.delete(key);
        this.byInstance.delete(
          c.window === 'daily'
            ? dailyInstanceKey(c.start)
            : providerInstanceKey(c.window, c.account, poolOf(c.model), c.start),
        );
      }
    }
    for (const [id, a] of this.fired) if (a.firedAt < cutoff) this.fired.delete(id);
    for (const [key, f] of this.fractions) if (f.at < cutoff) this.fractions.delete(key);
  }

  private ensureProviderWindow(
    account: string,
    pool: string,
    window: QuotaWindow,
    at: number,
  ): ProviderWindow {
    const key = providerWindowKey(account, pool, window);
    const cur = this.providerWindows.get(key);
    // A record older than the current instance's start (replayed late) still counts in it.
    if (cur && at < cur.resetTime) return cur;
    // No window known, or it ended: assume it starts with this use, as the provider's windows do.
    const next: ProviderWindow = {
      account,
      pool,
      window,
      start: cur ? Math.max(at, cur.resetTime) : at,
      resetTime: (cur ? Math.max(at, cur.resetTime) : at) + WINDOW_MS[window],
      estimated: true,
    };
    this.providerWindows.set(key, next);
    return next;
  }

  private bump(
    r: ResolvedRecord,
    window: Counter['window'],
    start: number,
    end: number,
    instance: string,
  ): void {
    const key = counterKey(r.account, r.model, window, start);
    let c = this.counters.get(key);
    if (!c) {
      c = {
        account: r.account,
        model: r.model,
        window,
        start,
        end,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        thinkingTokens: 0,
        errors: 0,
        firstAt: r.at,
        lastAt: r.at,
      };
      this.counters.set(key, c);
      const list = this.byInstance.get(instance);
      if (list) list.push(c);
      else this.byInstance.set(instance, [c]);
    }
    c.requests += 1;
    c.inputTokens += r.inputTokens;
    c.outputTokens += r.outputTokens;
    c.thinkingTokens += r.thinkingTokens;
    if (r.error) c.errors += 1;
    if (r.at < c.firstAt) c.firstAt = r.at;
    if (r.at > c.lastAt) c.lastAt = r.at;
  }

  private mergeCounter(src: Counter): void {
    const key = counterKey(src.account, src.model, src.window, src.start);
    const c = this.counters.get(key);
    if (c) {
      c.requests += src.requests;
      c.inputTokens += src.inputTokens;
      c.outputTokens += src.outputTokens;
      c.thinkingTokens += src.thinkingTokens;
      c.errors += src.errors;
      c.firstAt = Math.min(c.firstAt, src.firstAt);
      c.lastAt = Math.max(c.lastAt, src.lastAt);
      c.end = Math.max(c.end, src.end);
      return;
    }
    const copy = { ...src };
    this.counters.set(key, copy);
    const instance =
      src.window === 'daily'
        ? dailyInstanceKey(src.start)
        : providerInstanceKey(src.window, src.account, poolOf(src.model), src.start);
    const list = this.byInstance.get(instance);
    if (list) list.push(copy);
    else this.byInstance.set(instance, [copy]);
  }
}

/** Replays `ops` onto a document (null: none yet) and returns the result, pruned: the store's merge step. */
export function mergeOpsIntoDoc(
  doc: LedgerDoc | null,
  ops: readonly LedgerOp[],
  timeZone: string,
  now: number,
  retentionMs: number,
): LedgerDoc {
  const s = LedgerState.fromDoc(doc, timeZone);
  for (const op of ops) s.apply(op);
  s.prune(now, retentionMs);
  return s.toDoc(now);
}

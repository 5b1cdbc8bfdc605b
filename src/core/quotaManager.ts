/**
 * The quota manager: cache-first decisions per account × model, single-flight fetches through the
 * provider, cooldowns, thresholds, and the per-account fetch health that makes a decision "degraded".
 *
 * - `check()` answers from a fresh entry at once; from a stale entry at once while a background
 *   refresh runs; on a miss it awaits one fetch (shared by every concurrent caller for that account).
 * - A failed fetch never throws out of `check()`: the decision rests on the last known data and says
 *   `degraded: true`; with no data at all the remaining is unknown and the decision is `proceed` with
 *   freshness `missing` (see `decide` in decision.ts for why unknown does not block).
 * - `decide()` is the synchronous hot path for the proxy: cached data only, never fetches.
 */
import { Emitter } from './accountRegistry';
import type { Disposable, Listener } from './accountRegistry';
import { effectiveQuotaAt, QuotaCache } from './cache';
import type { QuotaCacheOptions } from './cache';
import { DEFAULT_CATALOG, poolOf } from './catalog';
import type { Clock } from './clock';
import { decide, UNKNOWN_QUOTA, validateThresholds } from './decision';
import { ConfigError, formatIssues } from './errors';
import type { QuotaProvider } from './provider';
import { ProviderError } from './provider';
import type { ProviderErrorKind } from './provider';
import type {
  Account,
  AccountId,
  Cooldown,
  CooldownKind,
  Decision,
  ModelQuota,
  QuotaBucket,
  QuotaReport,
  Thresholds,
} from './types';
import { CooldownSchema, DEFAULT_THRESHOLDS, QuotaReportSchema } from './types';

export interface QuotaManagerOptions extends QuotaCacheOptions {
  clock: Clock;
  provider: QuotaProvider;
  /** Use this cache instead of creating one from `ttlMs` / `maxEntries`. */
  cache?: QuotaCache;
  thresholds?: Thresholds;
}

export interface FetchError {
  message: string;
  kind: ProviderErrorKind | 'unknown';
  at: number;
}

export interface AccountFetchState {
  /** When the latest fetch started. */
  lastFetchAt: number | null;
  lastSuccessAt: number | null;
  lastError: FetchError | null;
  consecutiveFailures: number;
  /** True when the latest fetch failed (decisions are degraded). */
  failing: boolean;
}

export type QuotaManagerChange =
  | { kind: 'quota'; accountId: AccountId }
  | { kind: 'fetch-error'; accountId: AccountId; error: FetchError }
  | { kind: 'cooldown'; accountId: AccountId }
  | { kind: 'thresholds' }
  | { kind: 'forgotten'; accountId: AccountId };

export interface CooldownInit {
  accountId: AccountId;
  /** Omit or null for the whole account. */
  model?: string | null;
  until: number;
  kind: CooldownKind;
  reason: string;
  /** Replace an existing cooldown even if it ends later (default: keep whichever ends later). */
  replace?: boolean;
  /**
   * Also cool down the other models of the same quota pool (catalog `pool`, e.g. every Claude model).
   * Default: true for `quota-exhausted` (the pool shares one quota), false otherwise.
   */
  pool?: boolean;
}

/** Key of an account-wide cooldown in the per-account map (model ids are never empty). */
const WHOLE_ACCOUNT = '';

interface FetchStateMut {
  lastFetchAt: number | null;
  lastSuccessAt: number | null;
  lastError: FetchError | null;
  consecutiveFailures: number;
}

/** The latest fetch failed (consecutive failures are reset by a success). */
function isFailing(s: FetchStateMut): boolean {
  return s.consecutiveFailures > 0;
}

export class QuotaManager {
  readonly cache: QuotaCache;
  private readonly clock: Clock;
  private readonly provider: QuotaProvider;
  private currentThresholds: Thresholds;
  private readonly inflight = new Map<AccountId, Promise<QuotaReport>>();
  private readonly fetchStates = new Map<AccountId, FetchStateMut>();
  private readonly cooldowns = new Map<AccountId, Map<string, Cooldown>>();
  private readonly buckets = new Map<AccountId, readonly QuotaBucket[]>();
  private readonly changes = new Emitter<QuotaManagerChange>();

  constructor(options: QuotaManagerOptions) {
    this.clock = options.clock;
    this.provider = options.provider;
    this.cache = options.cache ?? new QuotaCache(options);
    this.currentThresholds = validateThresholds(options.thresholds ?? DEFAULT_THRESHOLDS);
  }

  onChange(listener: Listener<QuotaManagerChange>): Disposable {
    return this.changes.on(listener);
  }

  get thresholds(): Thresholds {
    return this.currentThresholds;
  }

  /** Sets warn / floor (fractions); throws ConfigError naming both values unless floor < warn. */
  setThresholds(thresholds: unknown): Thresholds {
    this.currentThresholds = validateThresholds(thresholds);
    this.changes.emit({ kind: 'thresholds' });
    return this.currentThresholds;
  }

  /** Cache-first decision; fetches on a miss, refreshes in the background when stale. Never rejects. */
  async check(account: Account, model: string): Promise<Decision> {
    if (account.status.kind !== 'active') return this.decide(account, model);
    const entry = this.cache.get(account.id, model);
    const freshness = this.cache.freshness(entry, this.clock.now());
    if (freshness === 'stale') {
      this.refreshInBackground(account);
    } else if (freshness === 'missing') {
      try {
        await this.refresh(account);
      } catch {
        // Recorded in the fetch state; the decision below says degraded.
      }
    }
    return this.decide(account, model);
  }

  /**
   * Synchronous decision from cached data only (the proxy's hot path). `peek` reads the cache without
   * counting a hit or touching the LRU order (snapshots, UI).
   */
  decide(account: Account, model: string, options?: { peek?: boolean }): Decision {
    const now = this.clock.now();
    const entry =
      account.status.kind !== 'active'
        ? undefined
        : options?.peek === true
          ? this.cache.peek(account.id, model)
          : this.cache.get(account.id, model);
    const state = this.fetchStates.get(account.id);
    return decide({
      account,
      model,
      quota: entry === undefined ? UNKNOWN_QUOTA : effectiveQuotaAt(entry, now),
      freshness: this.cache.freshness(entry, now),
      degraded: state !== undefined && isFailing(state),
      cooldown: this.activeCooldown(account.id, model, now),
      thresholds: this.currentThresholds,
      now,
    });
  }

  /**
   * Fetches the account's quotas now, single-flight: while one fetch runs, every caller gets the same
   * promise. Resolves with the applied report; rejects with the provider's error (also recorded).
   */
  refresh(account: Account): Promise<QuotaReport> {
    const running = this.inflight.get(account.id);
    if (running !== undefined) return running;
    const promise = this.fetchAndApply(account).finally(() => {
      if (this.inflight.get(account.id) === promise) this.inflight.delete(account.id);
    });
    this.inflight.set(account.id, promise);
    return promise;
  }

  /** Starts a refresh unless one runs; errors are recorded, not thrown. */
  refreshInBackground(account: Account): void {
    if (this.inflight.has(account.id)) return;
    this.refresh(account).catch(() => undefined);
  }

  isRefreshing(accountId: AccountId): boolean {
    return this.inflight.has(accountId);
  }

  /** Resolves when the account's running fetch (if any) settles. */
  async settled(accountId: AccountId): Promise<void> {
    await this.inflight.get(accountId)?.catch(() => undefined);
  }

  /**
   * Feeds a report into the cache (from a refresh, the monitor, or a provider's response).
   * By default it replaces every entry of the account; `{ replace: false }` merges per model and source.
   * Ends quota cooldowns early for models the report shows back above the floor.
   */
  applyReport(input: QuotaReport, options: { replace?: boolean } = {}): QuotaReport {
    const parsed = QuotaReportSchema.safeParse(input);
    if (!parsed.success) {
      throw new ConfigError(
        `Quota report rejected: ${formatIssues(parsed.error.issues)}. The provider must send fractions 0..1 and epoch-ms times.`,
      );
    }
    const report = parsed.data;
    const byModel = new Map<string, ModelQuota[]>();
    for (const r of report.models) {
      const list = byModel.get(r.model);
      if (list === undefined) byModel.set(r.model, [r]);
      else list.push(r);
    }
    if (options.replace ?? true) {
      this.cache.setAccount(report.accountId, byModel);
      this.buckets.set(report.accountId, Object.freeze(report.buckets.slice()));
    } else {
      for (const [model, readings] of byModel) {
        const kept = (this.cache.peek(report.accountId, model)?.readings ?? []).filter(
          (old) => !readings.some((r) => r.source === old.source),
        );
        this.cache.set(report.accountId, model, [...kept, ...readings]);
      }
      if (report.buckets.length > 0) {
        const ids = new Set(report.buckets.map((b) => b.id));
        const kept = (this.buckets.get(report.accountId) ?? []).filter((b) => !ids.has(b.id));
        this.buckets.set(report.accountId, Object.freeze([...kept, ...report.buckets]));
      }
    }
    this.endQuotaCooldownsEarly(report.accountId, byModel.keys());
    this.changes.emit({ kind: 'quota', accountId: report.accountId });
    return report;
  }

  /** Merges single readings (e.g. learned from a 429 body or response headers) into the cache. */
  mergeReadings(accountId: AccountId, readings: readonly ModelQuota[]): void {
    const fetchedAt = readings.reduce((t, r) => Math.max(t, r.fetchedAt), 0);
    this.applyReport({ accountId, fetchedAt, models: [...readings], buckets: [] }, { replace: false });
  }

  bucketsOf(accountId: AccountId): readonly QuotaBucket[] {
    return this.buckets.get(accountId) ?? [];
  }

  fetchState(accountId: AccountId): AccountFetchState {
    const s = this.fetchStates.get(accountId);
    if (s === undefined) {
      return {
        lastFetchAt: null,
        lastSuccessAt: null,
        lastError: null,
        consecutiveFailures: 0,
        failing: false,
      };
    }
    return { ...s, failing: isFailing(s) };
  }

  // ---- cooldowns ----

  /**
   * Sets a cooldown (whole account when `model` is null/absent). An existing cooldown on the same
   * scope that ends later is kept unless `replace` is set: a short rate limit must not shorten a
   * quota-exhausted lockout.
   */
  setCooldown(init: CooldownInit): Cooldown {
    const model = init.model ?? null;
    const first = this.setOneCooldown(init);
    if (model !== null && (init.pool ?? init.kind === 'quota-exhausted')) {
      const pool = poolOf(model);
      for (const m of DEFAULT_CATALOG) {
        if (m.pool === pool && m.id !== model) this.setOneCooldown({ ...init, model: m.id });
      }
    }
    return first;
  }

  private setOneCooldown(init: CooldownInit): Cooldown {
    const now = this.clock.now();
    const parsed = CooldownSchema.safeParse({
      accountId: init.accountId,
      model: init.model ?? null,
      until: Math.ceil(init.until),
      kind: init.kind,
      reason: init.reason,
      setAt: now,
    });
    if (!parsed.success) throw new ConfigError(`Invalid cooldown: ${formatIssues(parsed.error.issues)}.`);
    const cooldown = Object.freeze(parsed.data);
    let perAccount = this.cooldowns.get(cooldown.accountId);
    if (perAccount === undefined) {
      perAccount = new Map();
      this.cooldowns.set(cooldown.accountId, perAccount);
    }
    const key = cooldown.model ?? WHOLE_ACCOUNT;
    const existing = perAccount.get(key);
    if (!init.replace && existing !== undefined && existing.until > now && existing.until >= cooldown.until) {
      return existing;
    }
    perAccount.set(key, cooldown);
    this.changes.emit({ kind: 'cooldown', accountId: cooldown.accountId });
    return cooldown;
  }

  /** Clears the cooldown of one scope (model, or the whole account when null/absent). */
  clearCooldown(accountId: AccountId, model?: string | null): boolean {
    const perAccount = this.cooldowns.get(accountId);
    const removed = perAccount?.delete(model ?? WHOLE_ACCOUNT) ?? false;
    if (perAccount?.size === 0) this.cooldowns.delete(accountId);
    if (removed) this.changes.emit({ kind: 'cooldown', accountId });
    return removed;
  }

  /** Clears every cooldown of one account, or of all accounts. */
  clearCooldowns(accountId?: AccountId): void {
    const ids = accountId === undefined ? [...this.cooldowns.keys()] : [accountId];
    for (const id of ids) {
      if (this.cooldowns.delete(id)) this.changes.emit({ kind: 'cooldown', accountId: id });
    }
  }

  /** Cooldowns still in force (expired ones are dropped), optionally of one account. */
  listCooldowns(accountId?: AccountId): Cooldown[] {
    const now = this.clock.now();
    const out: Cooldown[] = [];
    const ids = accountId === undefined ? [...this.cooldowns.keys()] : [accountId];
    for (const id of ids) {
      const perAccount = this.cooldowns.get(id);
      if (perAccount === undefined) continue;
      for (const [key, c] of perAccount) {
        if (c.until > now) out.push(c);
        else perAccount.delete(key);
      }
      if (perAccount.size === 0) this.cooldowns.delete(id);
    }
    return out.sort((a, b) => a.until - b.until || a.accountId.localeCompare(b.accountId));
  }

  /** The cooldown in force for account × model (the later-ending of account-wide and per-model). */
  activeCooldown(accountId: AccountId, model: string, now: number = this.clock.now()): Cooldown | undefined {
    const perAccount = this.cooldowns.get(accountId);
    if (perAccount === undefined) return undefined;
    let found: Cooldown | undefined;
    const whole = perAccount.get(WHOLE_ACCOUNT);
    if (whole !== undefined) {
      if (whole.until > now) found = whole;
      else perAccount.delete(WHOLE_ACCOUNT);
    }
    const forModel = perAccount.get(model);
    if (forModel !== undefined) {
      if (forModel.until > now) {
        if (found === undefined || forModel.until > found.until) found = forModel;
      } else perAccount.delete(model);
    }
    if (perAccount.size === 0) this.cooldowns.delete(accountId);
    return found;
  }

  /** Drops everything known about an account (cache, buckets, cooldowns, fetch state). */
  forget(accountId: AccountId): void {
    this.cache.clearAccount(accountId);
    this.buckets.delete(accountId);
    this.cooldowns.delete(accountId);
    this.fetchStates.delete(accountId);
    this.changes.emit({ kind: 'forgotten', accountId });
  }

  private async fetchAndApply(account: Account): Promise<QuotaReport> {
    const state = this.stateOf(account.id);
    state.lastFetchAt = this.clock.now();
    try {
      const raw: unknown = await this.provider.fetchQuotas(account);
      const parsed = QuotaReportSchema.safeParse(raw);
      if (!parsed.success) {
        throw new ProviderError(
          'invalid-response',
          `The quota provider sent an invalid report for ${account.label}: ${formatIssues(parsed.error.issues)}`,
        );
      }
      if (parsed.data.accountId !== account.id) {
        throw new ProviderError(
          'invalid-response',
          `The quota provider answered for account "${parsed.data.accountId}" when asked for "${account.id}"`,
        );
      }
      const report = this.applyReport(parsed.data);
      state.lastSuccessAt = this.clock.now();
      state.consecutiveFailures = 0;
      return report;
    } catch (err) {
      const error: FetchError = {
        message: err instanceof Error ? err.message : String(err),
        kind: err instanceof ProviderError ? err.kind : 'unknown',
        at: this.clock.now(),
      };
      state.lastError = error;
      state.consecutiveFailures++;
      this.changes.emit({ kind: 'fetch-error', accountId: account.id, error });
      throw err;
    }
  }

  private stateOf(accountId: AccountId): FetchStateMut {
    let s = this.fetchStates.get(accountId);
    if (s === undefined) {
      s = { lastFetchAt: null, lastSuccessAt: null, lastError: null, consecutiveFailures: 0 };
      this.fetchStates.set(accountId, s);
    }
    return s;
  }

  /**
   * A quota-exhausted cooldown ends early when a reading fetched after it was set shows the model
   * back at or above the floor. An account-wide one ends when every model the report covers with a
   * known remaining is back.
   */
  private endQuotaCooldownsEarly(accountId: AccountId, models: Iterable<string>): void {
    const perAccount = this.cooldowns.get(accountId);
    if (perAccount === undefined) return;
    const floor = this.currentThresholds.floor;
    let ended = false;
    let allBack = true;
    let anyKnown = false;
    let latestFetch = 0;
    for (const model of models) {
      const entry = this.cache.peek(accountId, model);
      if (entry === undefined || entry.quota.remainingFraction === null) continue;
      anyKnown = true;
      latestFetch = Math.max(latestFetch, entry.fetchedAt);
      // Back means some quota is left and at least the floor: with a floor of 0, an empty reading
      // must not end a quota cooldown (that retried exhausted accounts in a loop).
      const back = entry.quota.remainingFraction > 0 && entry.quota.remainingFraction >= floor;
      if (!back) allBack = false;
      const c = perAccount.get(model);
      if (c !== undefined && c.kind === 'quota-exhausted' && back && entry.fetchedAt >= c.setAt) {
        perAccount.delete(model);
        ended = true;
      }
    }
    const whole = perAccount.get(WHOLE_ACCOUNT);
    if (whole?.kind === 'quota-exhausted' && anyKnown && allBack && latestFetch >= whole.setAt) {
      perAccount.delete(WHOLE_ACCOUNT);
      ended = true;
    }
    if (perAccount.size === 0) this.cooldowns.delete(accountId);
    if (ended) this.changes.emit({ kind: 'cooldown', accountId });
  }
}

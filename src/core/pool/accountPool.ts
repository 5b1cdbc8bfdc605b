/**
 * The account pool: which account serves the next request for a model, and what an attempt's
 * outcome teaches the engine.
 *
 * acquire(model, sessionKey):
 *  1. a pinned account (fixed mode) serves while it can;
 *  2. a session stays on its bound account while that account's decision is not exhausted
 *     (low quota logs a warning and keeps it — the prompt cache lives there);
 *  3. otherwise the prioritizer ranks the usable accounts, counting quota already promised to
 *     in-flight reservations, so parallel requests spread instead of piling onto one account;
 *  4. the chosen account takes a ledger reservation (a refusal over a user limit moves on to the
 *     next account); the session is (re)bound to it.
 * With no account able to serve, `NoAccountCanServeError` carries the earliest time one will.
 *
 * release(lease, outcome): success records usage (releasing the reservation) and clears failure
 * counts; failures set cooldowns from the parsed delay, feed the quota cache, or take the account
 * out of rotation, as the kind of error says.
 */
import { poolOf } from '../catalog';
import type { AccountRegistry } from '../accountRegistry';
import type { Clock } from '../clock';
import type { UsageLedger } from '../ledger/ledger';
import type { QuotaMonitor } from '../monitor';
import type { RankCandidate } from '../prioritizer';
import { rankAccounts } from '../prioritizer';
import type { ProviderError } from '../provider';
import type { QuotaManager } from '../quotaManager';
import type { Account, Decision } from '../types';
import { LruTtlMap } from './lruTtlMap';

export interface PoolLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface AccountPoolOptions {
  clock: Clock;
  registry: AccountRegistry;
  manager: QuotaManager;
  ledger: UsageLedger;
  monitor?: QuotaMonitor;
  logger?: PoolLogger;
  /** How long an idle session keeps its account; default 2 h. */
  sessionTtlMs?: number;
  /** Bound on remembered sessions; default 10,000. */
  maxSessions?: number;
  /** Tokens reserved per request when the caller gives no estimate; default 4,000. */
  defaultReserveTokens?: number;
  /** Lifetime of a request's reservation if nobody releases it; default 10 min. */
  reservationTtlMs?: number;
  /** 429s for one account × pool inside this window count once; default 2 s. */
  burstWindowMs?: number;
  /**
   * Share of an account's quota one in-flight request is assumed to hold, for spreading; default
   * 0.01 (a window of about 100 requests). Healthy accounts far apart keep their order; nearly-empty
   * ones close together share parallel work.
   */
  requestFraction?: number;
  /**
   * Keep the floor as a strict reserve: accounts below it never serve. Default false: they serve as
   * the last resort, before any client is refused.
   */
  strictFloor?: boolean;
}

export interface Lease {
  account: Account;
  model: string;
  sessionKey: string | null;
  reservationId: string | null;
  /** Why this account: "pinned", "session", or the prioritizer's reason. */
  reason: string;
  decision: Decision;
  acquiredAt: number;
}

export type Outcome =
  | { kind: 'success'; usage?: { inputTokens?: number; outputTokens?: number; thinkingTokens?: number } }
  | { kind: 'error'; error: ProviderError }
  /** The client went away or the call was cancelled: nothing was learned about the account. */
  | { kind: 'aborted' };

/**
 * Why no account can serve a model, most actionable first:
 * - `quota`: every account is out of quota for the model until a reset (429, Retry-After);
 * - `rate-limited`: accounts are rate limited or the model out of capacity for a short while (429);
 * - `limit`: the user's own usage limits refuse more (429);
 * - `upstream-failing`: accounts are briefly out after upstream failures such as stalls (503);
 * - `needs-verification`: every remaining account must be verified in a browser (403);
 * - `needs-sign-in`: every remaining account must sign in again (403);
 * - `restricted`: the provider refused every remaining account (403);
 * - `disabled`: every account is disabled, or there is none (503).
 */
export type NoAccountReason =
  | 'quota'
  | 'rate-limited'
  | 'limit'
  | 'upstream-failing'
  | 'needs-verification'
  | 'needs-sign-in'
  | 'restricted'
  | 'disabled';

/** No account can serve the model now; `why` says what the user or client can do about it. */
export class NoAccountCanServeError extends Error {
  constructor(
    readonly model: string,
    /** Earliest time (epoch ms) an account will serve the model again; null when unknown. */
    readonly availableAt: number | null,
    /** One line per account: "label: why it cannot serve". */
    readonly reasons: readonly string[],
    readonly why: NoAccountReason = 'quota',
    /** Where to verify (the provider's link), when `why` is `needs-verification`. */
    readonly verificationUrl?: string,
  ) {
    super(
      `No account can serve ${model} now` +
        (reasons.length > 0 ? ` (${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? '; …' : ''})` : '') +
        '.',
    );
    this.name = 'NoAccountCanServeError';
  }
}

export interface AcquireOptions {
  /** Accounts already tried for this request (failover). */
  exclude?: ReadonlySet<string>;
  /** Tokens to reserve; default `defaultReserveTokens`. */
  reserveTokens?: number;
  /** Lifetime of the reservation if nobody releases it; default `reservationTtlMs`. */
  ttlMs?: number;
}

const RATE_LIMIT_BASE_MS = 1_000;
const RATE_LIMIT_MAX_MS = 60_000;
/** Longest cooldown a transient failure's own delay (Retry-After on a 5xx, a stall) may set. */
const TRANSIENT_MAX_MS = 60_000;
const QUOTA_FALLBACK_MS = 5 * 60_000;

export class AccountPool {
  private readonly clock: Clock;
  private readonly registry: AccountRegistry;
  private readonly manager: QuotaManager;
  private readonly ledger: UsageLedger;
  private readonly monitor: QuotaMonitor | undefined;
  private readonly logger: PoolLogger | undefined;
  private readonly sessions: LruTtlMap<string, string>;
  private readonly defaultReserveTokens: number;
  private readonly reservationTtlMs: number;
  private readonly burstWindowMs: number;
  private readonly requestFraction: number;
  private readonly strictFloor: boolean;
  private readonly failures = new Map<string, number[]>();
  /** Consecutive short failures per account × model, for escalating backoff. */
  private readonly streaks = new Map<string, number>();
  /** Last time a 429 was counted per account × pool. */
  private readonly last429 = new Map<string, number>();
  private pinnedId: string | null = null;
  private last: { accountId: string; model: string } | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(options: AccountPoolOptions) {
    this.clock = options.clock;
    this.registry = options.registry;
    this.manager = options.manager;
    this.ledger = options.ledger;
    this.monitor = options.monitor;
    this.logger = options.logger;
    this.sessions = new LruTtlMap(options.maxSessions ?? 10_000, options.sessionTtlMs ?? 2 * 3_600_000, () =>
      this.clock.now(),
    );
    this.defaultReserveTokens = options.defaultReserveTokens ?? 4_000;
    this.reservationTtlMs = options.reservationTtlMs ?? 10 * 60_000;
    this.burstWindowMs = options.burstWindowMs ?? 2_000;
    this.requestFraction = options.requestFraction ?? 0.01;
    this.strictFloor = options.strictFloor ?? false;
  }

  /** Fires when the pin or the current account changes. */
  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  pin(accountId: string | null): void {
    if (accountId !== null && !this.registry.get(accountId)) {
      throw new Error(`Cannot pin "${accountId}": no such account.`);
    }
    this.pinnedId = accountId;
    this.emit();
  }

  pinned(): string | null {
    return this.pinnedId && this.registry.get(this.pinnedId) ? this.pinnedId : null;
  }

  /** The account and model of the last successful request. */
  current(): { accountId: string; model: string } | null {
    return this.last;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  acquire(model: string, sessionKey: string | null, options: AcquireOptions = {}): Lease {
    const now = this.clock.now();
    const exclude = options.exclude ?? new Set<string>();
    const tokens = options.reserveTokens ?? this.defaultReserveTokens;
    const ttlMs = options.ttlMs ?? this.reservationTtlMs;
    /** Accounts whose ledger refused the reservation (a user limit), with the ledger's reason. */
    const refused = new Map<string, string>();
    const accounts = this.registry.list().filter((a) => !exclude.has(a.id));
    const decisions = new Map<string, Decision>();
    const decisionOf = (a: Account): Decision => {
      let d = decisions.get(a.id);
      if (!d) {
        d = this.manager.decide(a, model);
        decisions.set(a.id, d);
        if (d.freshness !== 'fresh') this.manager.refreshInBackground(a);
      }
      return d;
    };

    const tryLease = (account: Account, reason: string, belowFloor = false): Lease | null => {
      const decision = decisionOf(account);
      if (account.status.kind !== 'active' || (decision.kind === 'exhausted' && !belowFloor)) return null;
      const reserved = this.ledger.reserve(account.id, model, { requests: 1, tokens }, ttlMs);
      if (!reserved.ok) {
        refused.set(account.id, reserved.reason);
        this.logger?.info(`pool: ${account.label} skipped for ${model}: ${reserved.reason}`);
        return null;
      }
      if (sessionKey !== null) this.sessions.set(sessionKey, account.id);
      return {
        account,
        model,
        sessionKey,
        reservationId: reserved.id,
        reason,
        decision,
        acquiredAt: now,
      };
    };

    // 1. Pinned.
    const pinned = this.pinned();
    if (pinned !== null && !exclude.has(pinned)) {
      const account = this.registry.get(pinned) as Account;
      const lease = tryLease(account, 'pinned');
      if (lease) return lease;
      this.logger?.warn(
        `pool: pinned account ${account.label} cannot serve ${model} (${decisionOf(account).reason}); routing elsewhere`,
      );
    }

    // 2. Session binding.
    const boundId = sessionKey !== null ? this.sessions.get(sessionKey) : undefined;
    if (boundId !== undefined && !exclude.has(boundId)) {
      const account = this.registry.get(boundId);
      if (account) {
        const d = decisionOf(account);
        if (d.kind === 'low-quota')
          this.logger?.warn(`pool: session stays on ${account.label} with low quota: ${d.reason}`);
        const lease = tryLease(account, 'session');
        if (lease) return lease;
        this.logger?.info(`pool: session moves off ${account.label}: ${d.reason}`);
      }
    }

    // 3. The prioritizer.
    const candidates: RankCandidate[] = accounts.map((account) => {
      const r = this.ledger.reservedFor(account.id, model);
      return {
        account,
        decision: decisionOf(account),
        reservedFraction: Math.min(1, r.requests * this.requestFraction),
        failures: this.failures.get(account.id) ?? [],
      };
    });
    // The best few almost always serve; rank everything only when they all refuse a reservation.
    const tried = new Set<string>();
    for (const limit of [4, undefined]) {
      for (const ranked of rankAccounts(candidates, model, now, limit === undefined ? {} : { limit })) {
        if (ranked.accountId === boundId || ranked.accountId === pinned || tried.has(ranked.accountId))
          continue;
        tried.add(ranked.accountId);
        const lease = tryLease(ranked.account, ranked.reason);
        if (lease) {
          if (boundId !== undefined && boundId !== ranked.accountId) {
            this.logger?.info(`pool: session rebound to ${ranked.account.label} (${ranked.reason})`);
          }
          return lease;
        }
      }
      if (candidates.length <= 4) break;
    }
    // 4. Last resort: the floor is a preference, not a refusal. Accounts below it that still have
    // quota serve, most remaining first, then soonest reset (unless a strict reserve is asked for).
    if (!this.strictFloor) {
      const below = accounts
        .filter((a) => {
          const d = decisionOf(a);
          return (
            a.status.kind === 'active' &&
            d.kind === 'exhausted' &&
            d.cooldownUntil === null &&
            d.remainingFraction !== null &&
            d.remainingFraction > 0
          );
        })
        .sort((x, y) => {
          const dx = decisionOf(x);
          const dy = decisionOf(y);
          return (
            (dy.remainingFraction ?? 0) - (dx.remainingFraction ?? 0) ||
            (dx.resetTime ?? Infinity) - (dy.resetTime ?? Infinity) ||
            (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
          );
        });
      for (const account of below) {
        const lease = tryLease(account, `last resort below the floor: ${decisionOf(account).reason}`, true);
        if (lease) {
          this.logger?.warn(`pool: ${account.label} serves ${model} below the floor (no other account can)`);
          return lease;
        }
      }
    }
    // Retry-After looks at every account, including those this request already tried.
    throw this.noAccount(model, this.registry.list(), decisionOf, now, exclude, refused);
  }

  release(lease: Lease, outcome: Outcome): void {
    const now = this.clock.now();
    const { account, model } = lease;
    const key = `${account.id}\u0000${model}`;
    if (outcome.kind === 'aborted') {
      if (lease.reservationId) this.ledger.release(lease.reservationId);
      return;
    }
    if (outcome.kind === 'success') {
      this.ledger.record({
        account: account.id,
        model,
        inputTokens: outcome.usage?.inputTokens ?? 0,
        outputTokens: outcome.usage?.outputTokens ?? 0,
        thinkingTokens: outcome.usage?.thinkingTokens ?? 0,
        ...(lease.reservationId ? { reservationId: lease.reservationId } : {}),
      });
      this.failures.delete(account.id);
      this.streaks.delete(key);
      if (this.last?.accountId !== account.id || this.last.model !== model) {
        this.last = { accountId: account.id, model };
        this.emit();
      }
      return;
    }
    const err = outcome.error;
    this.ledger.record({
      account: account.id,
      model,
      error: true,
      ...(lease.reservationId ? { reservationId: lease.reservationId } : {}),
    });
    this.learn(account, model, err, now);
  }

  /** Applies what an upstream error says about an account (also used for errors outside a lease). */
  learn(account: Account, model: string, err: ProviderError, now = this.clock.now()): void {
    const key = `${account.id}\u0000${model}`;
    const poolKey = `${account.id}\u0000${poolOf(model)}`;
    switch (err.kind) {
      case 'quota-exhausted': {
        const lastAt = this.last429.get(poolKey);
        const burst = lastAt !== undefined && now - lastAt < this.burstWindowMs;
        this.last429.set(poolKey, now);
        const until =
          err.resetTime ??
          (err.retryAfterMs !== undefined ? now + err.retryAfterMs : now + QUOTA_FALLBACK_MS);
        this.manager.setCooldown({
          accountId: account.id,
          model,
          until,
          kind: 'quota-exhausted',
          reason: `quota exhausted (429) until the reset`,
        });
        this.manager.mergeReadings(account.id, [
          {
            model,
            remainingFraction: 0,
            resetTime: err.resetTime ?? until,
            source: 'response',
            fetchedAt: now,
          },
        ]);
        if (!burst) {
          this.noteFailure(account.id, now);
          this.monitor?.nudge(account.id);
        }
        return;
      }
      case 'rate-limited':
      case 'capacity': {
        const lastAt = this.last429.get(poolKey);
        const burst = lastAt !== undefined && now - lastAt < this.burstWindowMs;
        this.last429.set(poolKey, now);
        const streak = burst ? (this.streaks.get(key) ?? 1) : (this.streaks.get(key) ?? 0) + 1;
        this.streaks.set(key, streak);
        const backoff = Math.min(RATE_LIMIT_MAX_MS, RATE_LIMIT_BASE_MS * 2 ** (streak - 1));
        this.manager.setCooldown({
          accountId: account.id,
          model,
          until: now + (err.retryAfterMs ?? backoff),
          kind: err.kind === 'capacity' ? 'capacity' : 'rate-limited',
          reason: err.kind === 'capacity' ? 'upstream out of capacity' : 'rate limited (429)',
        });
        if (!burst) this.noteFailure(account.id, now);
        return;
      }
      case 'verification-required':
        this.registry.update(account.id, {
          status: {
            kind: 'needs-verification',
            reason: err.message || 'The provider asks you to verify this account.',
            ...(err.url ? { url: err.url } : {}),
          },
        });
        this.logger?.warn(`pool: ${account.label} needs verification; out of rotation until you verify it`);
        return;
      case 'forbidden':
        this.registry.update(account.id, {
          status: {
            kind: 'restricted',
            reason: err.message || 'The provider refused this account.',
            ...(err.url ? { url: err.url } : {}),
          },
        });
        this.logger?.warn(`pool: ${account.label} restricted (${err.message}); out of rotation`);
        return;
      case 'auth-expired':
        // The client already refreshed the token once and retried. A refresh token the provider
        // refused (invalid_grant) has disabled the account through the token manager; anything
        // else (a 401 again right after a refresh) is a hiccup: lower the account's priority.
        this.noteFailure(account.id, now);
        return;
      case 'transient':
      case 'invalid-response':
        // 5xx, resets, stalls, malformed answers: the account stays in rotation with a lower
        // priority (the prioritizer's failure factor). Only a delay the failure itself carries
        // (Retry-After on a 503, a stalled first byte) keeps the account out, briefly.
        if (err.kind === 'invalid-response' && err.status !== undefined && err.status >= 300) return;
        if (err.retryAfterMs !== undefined && err.retryAfterMs > 0) {
          this.manager.setCooldown({
            accountId: account.id,
            model,
            until: now + Math.min(TRANSIENT_MAX_MS, err.retryAfterMs),
            kind: 'transient',
            reason: `upstream error (${err.status ?? 'network'})`,
          });
        }
        this.noteFailure(account.id, now);
        return;
      default:
        // not-found, aborted: not the account's fault.
        return;
    }
  }

  /** Forgets an account (removed by the user). */
  forget(accountId: string): void {
    this.failures.delete(accountId);
    for (const [k, v] of this.sessions.entries()) if (v === accountId) this.sessions.delete(k);
    if (this.pinnedId === accountId) this.pinnedId = null;
    if (this.last?.accountId === accountId) this.last = null;
    this.emit();
  }

  private noteFailure(accountId: string, now: number): void {
    const list = (this.failures.get(accountId) ?? []).filter((t) => now - t < 10 * 60_000);
    list.push(now);
    this.failures.set(accountId, list.slice(-20));
  }

  /** Why no account can serve: see `NoAccountReason` for the order. */
  private noAccount(
    model: string,
    accounts: readonly Account[],
    decisionOf: (a: Account) => Decision,
    now: number,
    tried: ReadonlySet<string>,
    refused: ReadonlyMap<string, string>,
  ): NoAccountCanServeError {
    const seen = new Set<NoAccountReason>();
    /** Earliest time an account of each time-bound kind serves again. */
    const at = new Map<NoAccountReason, number>();
    let earliestTried: number | null = null;
    let url: string | undefined;
    const reasons: string[] = [];
    const note = (why: NoAccountReason, when?: number | null): void => {
      seen.add(why);
      if (when !== undefined && when !== null)
        at.set(why, Math.min(at.get(why) ?? Infinity, Math.max(now, when)));
    };
    for (const a of accounts) {
      const s = a.status;
      if (s.kind !== 'active') {
        reasons.push(`${a.label}: ${s.reason}`);
        if (s.kind === 'needs-verification') {
          url ??= s.url;
          note('needs-verification');
        } else if (s.kind === 'restricted') note('restricted');
        else note(/sign in/i.test(s.reason) ? 'needs-sign-in' : 'disabled');
        continue;
      }
      const d = decisionOf(a);
      const limit = refused.get(a.id);
      reasons.push(`${a.label}: ${limit ?? d.reason}`);
      const cooldown =
        d.cooldownUntil !== null && d.cooldownUntil > now
          ? this.manager.activeCooldown(a.id, model, now)
          : undefined;
      if (cooldown !== undefined) {
        note(
          cooldown.kind === 'quota-exhausted'
            ? 'quota'
            : cooldown.kind === 'transient' || cooldown.kind === 'auth'
              ? 'upstream-failing'
              : 'rate-limited',
          cooldown.until,
        );
      } else if (d.kind === 'exhausted') note('quota', d.resetTime);
      else if (limit !== undefined) note('limit');
      else if (tried.has(a.id)) earliestTried = now;
    }
    const order: NoAccountReason[] = [
      'quota',
      'rate-limited',
      'limit',
      'upstream-failing',
      'needs-verification',
      'needs-sign-in',
      'restricted',
      'disabled',
    ];
    // Quota and rate limits together: "rate-limited" when any of them is the short kind.
    let why: NoAccountReason =
      order.find((w) => seen.has(w)) ?? (earliestTried !== null ? 'upstream-failing' : 'disabled');
    if (why === 'quota' && seen.has('rate-limited')) why = 'rate-limited';
    let earliest: number | null = earliestTried;
    for (const w of ['quota', 'rate-limited', 'upstream-failing'] as const) {
      const t = at.get(w);
      if (t !== undefined && (earliest === null || t < earliest)) earliest = t;
    }
    const timeBound =
      why === 'quota' || why === 'rate-limited' || why === 'upstream-failing' || why === 'limit';
    return new NoAccountCanServeError(
      model,
      timeBound ? earliest : null,
      reasons,
      why,
      why === 'needs-verification' ? url : undefined,
    );
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}

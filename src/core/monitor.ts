/**
 * Background refresh of every account's quota.
 *
 * Each account has its own due time. One clock timer is armed for the earliest due time; when it
 * fires, every due account is refreshed (a "cycle") through a p-limit queue of bounded concurrency.
 * - Success: next due = now + interval × (1 ± jitter), or just after the earliest reset time of a
 *   low / exhausted model if that comes first (its numbers are about to change).
 * - Failure: next due = now + min(backoffBase × 2^(failures−1), backoffMax) × (1 ± jitter).
 * - `nudge(id)`: refresh soon (after `nudgeDelayMs`, coalescing bursts) — unless the account is
 *   backing off after failures, where the backoff stands (no hammering a failing API).
 * - `refreshNow(id?)`: refresh at once (ignores backoff), resolving when done.
 * - Refreshes go through `QuotaManager.refresh`, whose single-flight means one fetch per account at
 *   a time whoever asks (the monitor, `check()`, the UI).
 * - `stop()` cancels the timer and awaits in-flight work; `pause()` / `resume()` keep state.
 */
import pLimit from 'p-limit';
import type { LimitFunction } from 'p-limit';
import type { AccountRegistry, Disposable, Listener } from './accountRegistry';
import { Emitter } from './accountRegistry';
import type { Clock, TimerHandle } from './clock';
import { ConfigError } from './errors';
import { ProviderError } from './provider';
import type { QuotaManager } from './quotaManager';
import type { Account, AccountId } from './types';
import { z } from 'zod';

export const MonitorSettingsSchema = z.object({
  /** Seconds between refreshes of one account; 30..3600. */
  intervalSeconds: z.number().int().min(30).max(3600).default(300),
  /** Relative jitter applied to every delay (0.1 = ±10%). */
  jitter: z.number().min(0).max(0.5).default(0.1),
  /** Refreshes running at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** First retry delay after a failure, ms. */
  backoffBaseMs: z.number().int().min(1_000).max(3_600_000).default(30_000),
  /** Longest retry delay after repeated failures, ms. */
  backoffMaxMs: z
    .number()
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .default(30 * 60_000),
  /** Delay before a nudged account is refreshed, ms (bursts of nudges coalesce). */
  nudgeDelayMs: z.number().int().min(0).max(600_000).default(2_000),
});
export type MonitorSettings = z.infer<typeof MonitorSettingsSchema>;

export interface MonitorOptions extends Partial<MonitorSettings> {
  clock: Clock;
  manager: QuotaManager;
  registry: AccountRegistry;
  /** Uniform random in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
}

export interface AccountMonitorState {
  accountId: AccountId;
  nextDueAt: number | null;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
  refreshing: boolean;
}

export interface MonitorHealth {
  running: boolean;
  paused: boolean;
  intervalSeconds: number;
  cycles: number;
  successes: number;
  failures: number;
  inFlight: number;
  nextRunAt: number | null;
  accounts: AccountMonitorState[];
}

export type MonitorEvent =
  | { kind: 'refreshed'; accountId: AccountId }
  | { kind: 'failed'; accountId: AccountId; error: string; retryAt: number }
  | { kind: 'state' };

interface PerAccount {
  nextDueAt: number;
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastError: string | null;
  running: Promise<void> | null;
}

export class QuotaMonitor {
  private settings: MonitorSettings;
  private readonly clock: Clock;
  private readonly manager: QuotaManager;
  private readonly registry: AccountRegistry;
  private readonly random: () => number;
  private limit: LimitFunction;
  private readonly accounts = new Map<AccountId, PerAccount>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly events = new Emitter<MonitorEvent>();
  private timer: TimerHandle | null = null;
  private timerAt: number | null = null;
  private running = false;
  /** Bumped by stop(): refreshes queued before it are skipped. */
  private generation = 0;
  private paused = false;
  private disposed = false;
  private cycles = 0;
  private successes = 0;
  private failures = 0;
  private readonly registryListener: Disposable;

  constructor(options: MonitorOptions) {
    this.clock = options.clock;
    this.manager = options.manager;
    this.registry = options.registry;
    this.random = options.random ?? Math.random;
    this.settings = parseSettings(options);
    this.limit = pLimit(this.settings.concurrency);
    this.registryListener = this.registry.onChange((change) => {
      if (change.kind === 'removed') {
        this.accounts.delete(change.account.id);
      } else if (change.kind === 'added' || change.account.status.kind !== change.previous.status.kind) {
        // New or re-enabled: refresh soon.
        this.ensure(change.account.id).nextDueAt = this.clock.now();
      }
      this.arm();
    });
  }

  onEvent(listener: Listener<MonitorEvent>): Disposable {
    return this.events.on(listener);
  }

  get config(): MonitorSettings {
    return this.settings;
  }

  /** Changes settings (validated); future delays use them, running refreshes are untouched. */
  configure(patch: Partial<MonitorSettings>): MonitorSettings {
    const next = parseSettings({ ...this.settings, ...patch });
    if (next.concurrency !== this.settings.concurrency) this.limit.concurrency = next.concurrency;
    this.settings = next;
    this.events.emit({ kind: 'state' });
    return next;
  }

  /** Starts refreshing: every known account is due at once, then on its own schedule. */
  start(): void {
    if (this.disposed) throw new ConfigError('The quota monitor was disposed; create a new one.');
    if (this.running) return;
    this.running = true;
    this.paused = false;
    const now = this.clock.now();
    for (const a of this.registry.list()) {
      const s = this.ensure(a.id);
      if (s.nextDueAt > now) s.nextDueAt = now;
    }
    this.arm();
    this.events.emit({ kind: 'state' });
  }

  /** Stops the schedule and resolves once in-flight refreshes have finished. */
  async stop(): Promise<void> {
    this.running = false;
    // Refreshes still queued behind the concurrency limit are skipped: with hundreds of accounts
    // stop() would otherwise wait for a whole refresh cycle.
    this.generation++;
    this.disarm();
    this.events.emit({ kind: 'state' });
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Holds the schedule (e.g. nothing uses the engine); due accounts run on resume. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.disarm();
    this.events.emit({ kind: 'state' });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.arm();
    this.events.emit({ kind: 'state' });
  }

  get isRunning(): boolean {
    return this.running;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Stops and detaches; in-flight work finishes on its own. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.stop();
    this.registryListener.dispose();
    this.events.clear();
  }

  /**
   * Refreshes one account (or all active accounts) now, through the concurrency limit, ignoring
   * backoff. Resolves when done; never rejects (failures are counted and scheduled for retry).
   */
  async refreshNow(accountId?: AccountId): Promise<void> {
    if (this.disposed) return;
    const ids = accountId === undefined ? this.registry.list().map((a) => a.id) : [accountId];
    await Promise.all(ids.map((id) => this.runOne(id)));
  }

  /** The account's numbers changed (a 429, a reset time passed): refresh it soon. */
  nudge(accountId: AccountId): void {
    if (!this.registry.has(accountId)) return;
    const s = this.ensure(accountId);
    const soon = this.clock.now() + this.settings.nudgeDelayMs;
    if (s.consecutiveFailures === 0 && soon < s.nextDueAt) s.nextDueAt = soon;
    this.arm();
  }

  health(): MonitorHealth {
    const accounts: AccountMonitorState[] = [];
    for (const a of this.registry.list()) {
      const s = this.accounts.get(a.id);
      accounts.push({
        accountId: a.id,
        nextDueAt: s === undefined || !this.running ? null : s.nextDueAt,
        consecutiveFailures: s?.consecutiveFailures ?? 0,
        lastSuccessAt: s?.lastSuccessAt ?? null,
        lastFailureAt: s?.lastFailureAt ?? null,
        lastError: s?.lastError ?? null,
        refreshing: s?.running != null || this.manager.isRefreshing(a.id),
      });
    }
    return {
      running: this.running,
      paused: this.paused,
      intervalSeconds: this.settings.intervalSeconds,
      cycles: this.cycles,
      successes: this.successes,
      failures: this.failures,
      inFlight: this.inflight.size,
      nextRunAt: this.timerAt,
      accounts,
    };
  }

  /** Delay after a success: interval ± jitter. */
  nextIntervalMs(): number {
    return this.jittered(this.settings.intervalSeconds * 1000);
  }

  /** Delay after the n-th consecutive failure (n ≥ 1): exponential, capped, ± jitter. */
  backoffMs(failures: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.settings;
    const raw = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
    return this.jittered(raw);
  }

  /**
   * Shortly after the earliest reset of a model that is low or exhausted, its numbers change (often
   * from 0% to full): refresh then rather than a whole interval later. Infinity when none.
   */
  private nextUsefulResetAt(id: AccountId, now: number): number {
    const warn = this.manager.thresholds.warn;
    let at = Infinity;
    for (const e of this.manager.cache.entriesOf(id)) {
      const r = e.quota.remainingFraction;
      if (r !== null && r < warn && e.quota.resetTime !== null && e.quota.resetTime > now) {
        at = Math.min(at, e.quota.resetTime + this.settings.nudgeDelayMs);
      }
    }
    return at;
  }

  private jittered(ms: number): number {
    const j = this.settings.jitter;
    return Math.round(ms * (1 + j * (2 * this.random() - 1)));
  }

  private ensure(id: AccountId): PerAccount {
    let s = this.accounts.get(id);
    if (s === undefined) {
      s = {
        nextDueAt: this.clock.now(),
        consecutiveFailures: 0,
        lastSuccessAt: null,
        lastFailureAt: null,
        lastError: null,
        running: null,
      };
      this.accounts.set(id, s);
    }
    return s;
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = null;
  }

  /** (Re)arms the single timer for the earliest due account that is not already refreshing. */
  private arm(): void {
    if (!this.running || this.paused || this.disposed) return;
    let earliest = Infinity;
    for (const a of this.registry.list()) {
      if (a.status.kind !== 'active') continue;
      const s = this.ensure(a.id);
      if (s.running === null && s.nextDueAt < earliest) earliest = s.nextDueAt;
    }
    if (earliest === Infinity) {
      this.disarm();
      return;
    }
    if (this.timer !== null && this.timerAt === earliest) return;
    this.disarm();
    this.timerAt = earliest;
    this.timer = this.clock.setTimeout(() => this.cycle(), earliest - this.clock.now());
  }

  private cycle(): void {
    this.timer = null;
    this.timerAt = null;
    if (!this.running || this.paused) return;
    const now = this.clock.now();
    let started = 0;
    for (const a of this.registry.list()) {
      if (a.status.kind !== 'active') continue;
      const s = this.ensure(a.id);
      if (s.running === null && s.nextDueAt <= now) {
        void this.runOne(a.id);
        started++;
      }
    }
    if (started > 0) this.cycles++;
    this.arm();
  }

  /** Refreshes one account unless the monitor already is; shares the running promise otherwise. */
  private runOne(id: AccountId): Promise<void> {
    const s = this.ensure(id);
    if (s.running !== null) return s.running;
    const generation = this.generation;
    const run = this.limit(() =>
      generation === this.generation ? this.refreshAccount(id, s) : Promise.resolve(),
    ).finally(() => {
      s.running = null;
      this.inflight.delete(run);
      this.arm();
    });
    s.running = run;
    this.inflight.add(run);
    return run;
  }

  private async refreshAccount(id: AccountId, s: PerAccount): Promise<void> {
    const account = this.registry.get(id);
    if (account === undefined || account.status.kind !== 'active') return;
    try {
      await this.manager.refresh(account);
      const now = this.clock.now();
      s.consecutiveFailures = 0;
      s.lastSuccessAt = now;
      s.lastError = null;
      s.nextDueAt = Math.min(now + this.nextIntervalMs(), this.nextUsefulResetAt(id, now));
      this.successes++;
      this.events.emit({ kind: 'refreshed', accountId: id });
    } catch (err) {
      const now = this.clock.now();
      s.consecutiveFailures++;
      s.lastFailureAt = now;
      s.lastError = err instanceof Error ? err.message : String(err);
      s.nextDueAt = now + this.backoffMs(s.consecutiveFailures);
      this.failures++;
      this.markAccount(account, err);
      this.events.emit({ kind: 'failed', accountId: id, error: s.lastError, retryAt: s.nextDueAt });
    }
  }

  /** Errors that retrying cannot fix take the account out of rotation, with the reason and URL. */
  private markAccount(account: Account, err: unknown): void {
    if (!(err instanceof ProviderError) || !this.registry.has(account.id)) return;
    const url = err.url !== undefined && z.string().url().safeParse(err.url).success ? err.url : undefined;
    if (err.kind === 'verification-required') {
      this.registry.update(account.id, {
        status: { kind: 'needs-verification', reason: err.message || 'Verify the account in a browser', url },
      });
    } else if (err.kind === 'forbidden') {
      this.registry.update(account.id, {
        status: { kind: 'restricted', reason: err.message || 'The provider refused this account', url },
      });
    }
  }
}

function parseSettings(input: Partial<MonitorSettings>): MonitorSettings {
  const picked = {
    intervalSeconds: input.intervalSeconds,
    jitter: input.jitter,
    concurrency: input.concurrency,
    backoffBaseMs: input.backoffBaseMs,
    backoffMaxMs: input.backoffMaxMs,
    nudgeDelayMs: input.nudgeDelayMs,
  };
  const parsed = MonitorSettingsSchema.safeParse(picked);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.')} ${describeValue(picked, i.path[0])}: ${i.message}`)
      .join('; ');
    throw new ConfigError(
      `Invalid quota monitor settings: ${issues}. The refresh interval must be 30–3600 seconds (quotaPilot.refreshIntervalSeconds).`,
      'quotaPilot.refreshIntervalSeconds',
    );
  }
  if (parsed.data.backoffMaxMs < parsed.data.backoffBaseMs) {
    throw new ConfigError(
      `Invalid quota monitor settings: backoffMaxMs (${parsed.data.backoffMaxMs}) must be at least backoffBaseMs (${parsed.data.backoffBaseMs}).`,
    );
  }
  return parsed.data;
}

function describeValue(obj: Record<string, unknown>, key: PropertyKey | undefined): string {
  return typeof key === 'string' ? `(${String(obj[key])})` : '';
}

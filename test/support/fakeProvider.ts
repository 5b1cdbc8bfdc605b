/**
 * A scripted QuotaProvider for tests: per-account quotas, delays on the test's clock, queued
 * failures, call counts and the highest number of concurrent calls seen.
 *
 *   const clock = new VirtualClock(0);
 *   const provider = new FakeProvider(clock);
 *   provider.setModels('a1', { 'claude-sonnet-4-6': { remaining: 0.6, resetInMs: 3_600_000 } });
 *   provider.setDelay('a1', 1_000);           // each fetch takes 1 s of virtual time
 *   provider.failNext('a1', new ProviderError('transient', 'boom'), 2);
 */
import type { Clock } from '../../src/core/clock';
import type { QuotaProvider } from '../../src/core/provider';
import { ProviderError } from '../../src/core/provider';
import type {
  Account,
  AccountId,
  AccountStatus,
  ModelQuota,
  QuotaBucket,
  QuotaReport,
  QuotaSource,
  Tier,
  TierReport,
} from '../../src/core/types';

export interface FakeModelQuota {
  /** 0..1, or null for "the source did not say". */
  remaining: number | null;
  /** Reset relative to the fetch time, ms; or give `resetTime`. */
  resetInMs?: number;
  resetTime?: number | null;
  source?: QuotaSource;
}

export type FakeReportScript = (account: Account, now: number) => QuotaReport;

interface Script {
  models: Record<string, FakeModelQuota | FakeModelQuota[]>;
  buckets: Omit<QuotaBucket, 'fetchedAt'>[];
  report?: FakeReportScript;
  delayMs: number;
  failures: unknown[];
  alwaysFail: { error: unknown } | undefined;
  tier: TierReport;
}

export class FakeProvider implements QuotaProvider {
  private readonly scripts = new Map<AccountId, Script>();
  private readonly quotaCalls = new Map<AccountId, number>();
  private readonly tierCalls = new Map<AccountId, number>();
  private active = 0;
  /** Highest number of fetchQuotas calls in progress at once. */
  maxConcurrent = 0;
  /** Every fetchQuotas call in order: account id and the clock time it started. */
  readonly log: Array<{ accountId: AccountId; at: number }> = [];

  constructor(private readonly clock: Clock) {}

  /** Sets the per-model quotas an account reports (replaces earlier ones). */
  setModels(accountId: AccountId, models: Record<string, FakeModelQuota | FakeModelQuota[]>): this {
    this.script(accountId).models = models;
    return this;
  }

  setBuckets(accountId: AccountId, buckets: Omit<QuotaBucket, 'fetchedAt'>[]): this {
    this.script(accountId).buckets = buckets;
    return this;
  }

  /** Full control: build the report yourself. */
  setReport(accountId: AccountId, report: FakeReportScript): this {
    this.script(accountId).report = report;
    return this;
  }

  /** Each call for the account waits this long on the clock before answering. */
  setDelay(accountId: AccountId, ms: number): this {
    this.script(accountId).delayMs = ms;
    return this;
  }

  /** The next `times` calls for the account reject with `error` (after the delay). */
  failNext(
    accountId: AccountId,
    error: unknown = new ProviderError('transient', 'simulated outage'),
    times = 1,
  ): this {
    for (let i = 0; i < times; i++) this.script(accountId).failures.push(error);
    return this;
  }

  /** Every call fails until `recover()`. */
  failAlways(
    accountId: AccountId,
    error: unknown = new ProviderError('transient', 'simulated outage'),
  ): this {
    this.script(accountId).alwaysFail = { error };
    return this;
  }

  recover(accountId: AccountId): this {
    const s = this.script(accountId);
    s.failures = [];
    s.alwaysFail = undefined;
    return this;
  }

  setTier(accountId: AccountId, tier: Tier, status?: AccountStatus, projectId?: string): this {
    this.script(accountId).tier = { tier, status, projectId };
    return this;
  }

  calls(accountId?: AccountId): number {
    if (accountId !== undefined) return this.quotaCalls.get(accountId) ?? 0;
    let n = 0;
    for (const c of this.quotaCalls.values()) n += c;
    return n;
  }

  tierCallCount(accountId: AccountId): number {
    return this.tierCalls.get(accountId) ?? 0;
  }

  get inFlight(): number {
    return this.active;
  }

  async fetchQuotas(account: Account, signal?: AbortSignal): Promise<QuotaReport> {
    const s = this.script(account.id);
    this.quotaCalls.set(account.id, (this.quotaCalls.get(account.id) ?? 0) + 1);
    this.log.push({ accountId: account.id, at: this.clock.now() });
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    try {
      if (s.delayMs > 0) await this.clock.sleep(s.delayMs, signal);
      if (s.alwaysFail !== undefined) throw s.alwaysFail.error;
      if (s.failures.length > 0) throw s.failures.shift();
      const now = this.clock.now();
      if (s.report) return s.report(account, now);
      return buildReport(account.id, now, s.models, s.buckets);
    } finally {
      this.active--;
    }
  }

  async fetchTier(account: Account): Promise<TierReport> {
    this.tierCalls.set(account.id, (this.tierCalls.get(account.id) ?? 0) + 1);
    return this.script(account.id).tier;
  }

  private script(accountId: AccountId): Script {
    let s = this.scripts.get(accountId);
    if (s === undefined) {
      s = {
        models: {},
        buckets: [],
        delayMs: 0,
        failures: [],
        alwaysFail: undefined,
        tier: { tier: 'UNKNOWN' },
      };
      this.scripts.set(accountId, s);
    }
    return s;
  }
}

export function buildReport(
  accountId: AccountId,
  now: number,
  models: Record<string, FakeModelQuota | FakeModelQuota[]>,
  buckets: Omit<QuotaBucket, 'fetchedAt'>[] = [],
): QuotaReport {
  const readings: ModelQuota[] = [];
  for (const [model, spec] of Object.entries(models)) {
    for (const q of Array.isArray(spec) ? spec : [spec]) {
      readings.push({
        model,
        remainingFraction: q.remaining,
        resetTime:
          q.resetTime !== undefined ? q.resetTime : q.resetInMs !== undefined ? now + q.resetInMs : null,
        source: q.source ?? 'models',
        fetchedAt: now,
      });
    }
  }
  return {
    accountId,
    fetchedAt: now,
    models: readings,
    buckets: buckets.map((b) => ({ ...b, fetchedAt: now })),
  };
}

/** A valid active account; override any field. */
export function makeAccount(id: string, overrides: Partial<Account> = {}): Account {
  return { id, email: `${id}@example.com`, label: id, tier: 'PRO', status: { kind: 'active' }, ...overrides };
}

/**
 * The simulator's state, independent of HTTP: accounts (project, flags), the quota model, OAuth,
 * faults, onboarding operations and statistics, plus the `SimulatorControl` API tests and the UI drive.
 */
import type { Clock } from '../core/clock';
import { VirtualClock } from '../core/clock';
import {
  DEFAULT_CATALOG,
  DEFAULT_DEPRECATED_MODEL_IDS,
  catalogModel,
  type CatalogModel,
} from '../core/catalog';
import { ConfigError, formatIssues } from '../core/errors';
import { FaultInjector } from './faults';
import { OAuthSimulator } from './oauth';
import { hash32, mulberry32 } from './prng';
import { QUOTA_WINDOWS, QuotaModel, type QuotaWindowKind, type SimTier } from './quotaModel';
import {
  FaultSpecSchema,
  effectiveCapacities,
  initialProject,
  type FaultSpec,
  type Scenario,
  type SimAccount,
} from './scenario';
import { formatTimestamp } from './durations';

export interface AccountRuntime {
  config: SimAccount;
  project: string | null;
  banned: boolean;
  validationUrl: string | undefined;
}

export interface OnboardingOperation {
  name: string;
  accountId: string;
  polls: number;
  project: string;
  done: boolean;
}

export interface SimulatorStats {
  /** Requests per Cloud Code method / OAuth endpoint. */
  requests: Record<string, number>;
  /** Responses per HTTP status. */
  statuses: Record<string, number>;
  /** 429 answers of any kind. */
  rateLimited: number;
  /** Successful refresh_token grants per account id. */
  tokenRefreshes: Record<string, number>;
  /** Faults fired per kind. */
  faultsFired: Record<string, number>;
  /** Generation requests served and tokens counted, per account id. */
  perAccount: Record<string, { requests: number; tokens: number }>;
}

export interface WindowState {
  fraction: number;
  remaining: number;
  capacity: number;
  resetTime: string;
}

export interface SimulatorAccountState {
  id: string;
  email: string;
  tier: SimTier;
  project: string | null;
  banned: boolean;
  validationUrl: string | null;
  pools: Record<string, { fraction: number; resetTime: string } & Record<QuotaWindowKind, WindowState>>;
}

export interface SimulatorState {
  scenario: string;
  now: string;
  virtualClock: boolean;
  accounts: SimulatorAccountState[];
  faults: FaultSpec[];
  stats: SimulatorStats;
}

export interface DrainRequest {
  /** Account id or email. */
  account: string;
  /** A pool ("claude", "gemini-pro", …) or a model id; one of the two. */
  pool?: string;
  model?: string;
  toFraction: number;
  /** Default both. */
  window?: QuotaWindowKind | 'both';
}

export interface SimulatorControl {
  state(): SimulatorState;
  stats(): SimulatorStats;
  /** Sets an account's remaining fraction for a pool (or a model's pool). */
  drain(req: DrainRequest): void;
  /** Quotas back to the scenario's start fractions, faults back to the scenario's list, account flags restored. */
  reset(): void;
  /** Adds a fault (validated; throws ConfigError). */
  addFault(spec: unknown): FaultSpec;
  clearFaults(): void;
  /** Moves a virtual clock forward; throws ConfigError on any other clock. */
  advance(ms: number): Promise<void>;
  /** Expires access tokens now (one account or all); returns how many. */
  expireTokens(account?: string): number;
  /** The account's refresh token now gets invalid_grant. */
  revokeRefreshToken(account: string): void;
  setAccountStatus(account: string, status: { banned?: boolean; validationUrl?: string | null }): void;
  /** An access token for the account without going through OAuth. */
  issueAccessToken(account: string): { accessToken: string; expiresAt: number };
  /** The quota model itself, for direct reads. */
  readonly quota: QuotaModel;
}

/** The quota model of a scenario, for in-process use without HTTP (e.g. the 429 study on a virtual clock). */
export function quotaModelFor(scenario: Scenario, clock: Clock): QuotaModel {
  return new QuotaModel(
    {
      capacities: effectiveCapacities(scenario),
      accounts: scenario.accounts.map((a) => ({
        id: a.id,
        tier: a.tier,
        phases: a.windowPhaseMs,
        initial: Object.fromEntries(
          Object.entries(a.remaining).map(([pool, r]) => [
            pool,
            typeof r === 'number' ? { '5h': r, weekly: r } : (r ?? {}),
          ]),
        ),
      })),
    },
    clock,
  );
}

export class SimulatorCore implements SimulatorControl {
  readonly quota: QuotaModel;
  readonly oauth: OAuthSimulator;
  readonly faults: FaultInjector;
  readonly accounts = new Map<string, AccountRuntime>();
  readonly operations = new Map<string, OnboardingOperation>();
  readonly catalog: readonly CatalogModel[] = DEFAULT_CATALOG;
  readonly deprecated: Readonly<Record<string, string>> = DEFAULT_DEPRECATED_MODEL_IDS;
  private counters = {
    requests: new Map<string, number>(),
    statuses: new Map<string, number>(),
    rateLimited: 0,
  };
  private perAccount = new Map<string, { requests: number; tokens: number }>();
  private opSeq = 0;

  constructor(
    readonly scenario: Scenario,
    readonly clock: Clock,
  ) {
    this.quota = quotaModelFor(scenario, clock);
    this.oauth = new OAuthSimulator(
      scenario.accounts.map((a) => ({
        id: a.id,
        email: a.email,
        name: a.name ?? a.email.split('@')[0] ?? a.id,
        refreshToken: a.refreshToken,
      })),
      scenario.oauth,
      clock,
    );
    this.faults = new FaultInjector(scenario.faults, mulberry32(scenario.seed));
    this.restoreAccounts();
  }

  private restoreAccounts(): void {
    this.accounts.clear();
    for (const a of this.scenario.accounts) {
      this.accounts.set(a.id, {
        config: a,
        project: initialProject(a),
        banned: a.banned,
        validationUrl: a.validationRequired?.url,
      });
    }
  }

  /** Resolves an account by id or email; throws ConfigError naming the known ones. */
  account(idOrEmail: string): AccountRuntime {
    const byId = this.accounts.get(idOrEmail);
    if (byId) return byId;
    const lower = idOrEmail.toLowerCase();
    for (const a of this.accounts.values()) if (a.config.email.toLowerCase() === lower) return a;
    throw new ConfigError(
      `no simulator account "${idOrEmail}": use one of the ids ${[...this.accounts.keys()].join(', ')} or their emails`,
    );
  }

  /** A catalog model by id, following deprecated ids to their replacement. */
  model(id: string): CatalogModel | undefined {
    return catalogModel(Object.hasOwn(this.deprecated, id) ? (this.deprecated[id] ?? id) : id);
  }

  projectFor(accountId: string): string {
    return `sim-onboarded-${(hash32(`${this.scenario.seed}:${accountId}`) % 1_000_000).toString().padStart(6, '0')}`;
  }

  newOperationName(): string {
    this.opSeq += 1;
    return `operations/onboard-${this.opSeq.toString(16).padStart(8, '0')}`;
  }

  countRequest(method: string): void {
    this.counters.requests.set(method, (this.counters.requests.get(method) ?? 0) + 1);
  }

  countStatus(status: number): void {
    this.counters.statuses.set(String(status), (this.counters.statuses.get(String(status)) ?? 0) + 1);
    if (status === 429) this.counters.rateLimited += 1;
  }

  countGeneration(accountId: string, tokens: number): void {
    const s = this.perAccount.get(accountId) ?? { requests: 0, tokens: 0 };
    s.requests += 1;
    s.tokens += tokens;
    this.perAccount.set(accountId, s);
  }

  stats(): SimulatorStats {
    return {
      requests: Object.fromEntries(this.counters.requests),
      statuses: Object.fromEntries(this.counters.statuses),
      rateLimited: this.counters.rateLimited,
      tokenRefreshes: Object.fromEntries(this.oauth.refreshCounts),
      faultsFired: Object.fromEntries(this.faults.fired),
      perAccount: Object.fromEntries([...this.perAccount].map(([k, v]) => [k, { ...v }])),
    };
  }

  state(): SimulatorState {
    return {
      scenario: this.scenario.name,
      now: new Date(this.clock.now()).toISOString(),
      virtualClock: this.clock instanceof VirtualClock,
      accounts: [...this.accounts.values()].map((a) => ({
        id: a.config.id,
        email: a.config.email,
        tier: a.config.tier,
        project: a.project,
        banned: a.banned,
        validationUrl: a.validationUrl ?? null,
        pools: Object.fromEntries(
          this.quota.pools().map((pool) => {
            const r = this.quota.readPool(a.config.id, pool);
            const win = (w: QuotaWindowKind): WindowState => ({
              fraction: r.windows[w].fraction,
              remaining: r.windows[w].remaining,
              capacity: r.windows[w].capacity,
              resetTime: formatTimestamp(r.windows[w].resetTime),
            });
            return [
              pool,
              {
                fraction: r.fraction,
                resetTime: formatTimestamp(r.resetTime),
                '5h': win('5h'),
                weekly: win('weekly'),
              },
            ];
          }),
        ),
      })),
      faults: this.faults.list(),
      stats: this.stats(),
    };
  }

  drain(req: DrainRequest): void {
    const account = this.account(req.account);
    if (!(req.toFraction >= 0 && req.toFraction <= 1)) {
      throw new ConfigError(`toFraction must be a number from 0 to 1, got ${String(req.toFraction)}`);
    }
    let pool = req.pool;
    if (pool === undefined && req.model !== undefined) {
      const m = this.model(req.model);
      if (!m) throw new ConfigError(`unknown model "${req.model}": use a catalog model id or a pool`);
      pool = m.pool;
    }
    if (pool === undefined || !this.quota.pools().includes(pool)) {
      throw new ConfigError(
        `drain needs a pool (${this.quota.pools().join(', ')}) or a model id; got ${pool ?? 'neither'}`,
      );
    }
    const windows = req.window === undefined || req.window === 'both' ? QUOTA_WINDOWS : [req.window];
    this.quota.setFraction(account.config.id, pool, req.toFraction, windows);
  }

  reset(): void {
    this.quota.resetToInitial();
    this.faults.set(this.scenario.faults);
    this.restoreAccounts();
    this.operations.clear();
  }

  addFault(spec: unknown): FaultSpec {
    const parsed = FaultSpecSchema.safeParse(spec);
    if (!parsed.success) throw new ConfigError(`invalid fault: ${formatIssues(parsed.error.issues)}`);
    if (parsed.data.account !== undefined) this.account(parsed.data.account);
    this.faults.add(parsed.data);
    return parsed.data;
  }

  clearFaults(): void {
    this.faults.set([]);
  }

  async advance(ms: number): Promise<void> {
    if (!(this.clock instanceof VirtualClock)) {
      throw new ConfigError(
        'advance works only on a virtual clock: start the simulator with --virtual-clock (CLI) or a VirtualClock',
      );
    }
    if (!(Number.isFinite(ms) && ms >= 0)) throw new ConfigError(`advance needs ms >= 0, got ${String(ms)}`);
    await this.clock.advanceAsync(ms);
  }

  expireTokens(account?: string): number {
    return this.oauth.expireTokens(account === undefined ? undefined : this.account(account).config.id);
  }

  revokeRefreshToken(account: string): void {
    this.oauth.revokeRefreshToken(this.account(account).config.id);
  }

  setAccountStatus(account: string, status: { banned?: boolean; validationUrl?: string | null }): void {
    const a = this.account(account);
    if (status.banned !== undefined) a.banned = status.banned;
    if (status.validationUrl !== undefined) a.validationUrl = status.validationUrl ?? undefined;
  }

  issueAccessToken(account: string): { accessToken: string; expiresAt: number } {
    return this.oauth.issue(this.account(account).config.id);
  }
}

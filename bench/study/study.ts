/**
 * The 429 study: the same request stream, routed by four policies, against the simulator's quota
 * model on a virtual clock (14 simulated days in seconds).
 *
 * - quota-pilot: the real engine — AccountRegistry, QuotaManager (fed by a provider that reads the
 *   quota model, through the quota API outage when the scenario has one), AccountPool (prioritizer,
 *   session binding, ledger reservations, cooldowns learned from ProviderError kinds as the host's
 *   failover backend teaches it).
 * - reactive round-robin: stays on one account until it answers 429, then moves to the next.
 * - fill-first: always the first account in list order that is not cooling down.
 * - tier-then-quota: highest tier first, then most remaining quota (polled every 5 minutes).
 * Every baseline also honours the reset time a 429 names (cools the account down until then), and
 * every policy fails over up to 4 accounts per request, as the host does.
 */
import { AccountRegistry } from '../../src/core/accountRegistry';
import { VirtualClock } from '../../src/core/clock';
import { UsageLedger } from '../../src/core/ledger';
import { AccountPool, NoAccountCanServeError } from '../../src/core/pool/accountPool';
import type { Lease } from '../../src/core/pool/accountPool';
import { ProviderError } from '../../src/core/provider';
import type { QuotaProvider } from '../../src/core/provider';
import { QuotaManager } from '../../src/core/quotaManager';
import type { Account, ModelQuota, QuotaReport, Tier } from '../../src/core/types';
import { DEFAULT_CATALOG } from '../../src/core/catalog';
import { quotaModelFor } from '../../src/simulator/core';
import { mulberry32 } from '../../src/simulator/prng';
import type { QuotaModel } from '../../src/simulator/quotaModel';
import { parseScenario } from '../../src/simulator/scenario';
import { START } from './workload';
import type { Req, StudyScenario } from './workload';

export const MAX_ATTEMPTS = 4;
const CAPACITY_RETRY_MS = 30_000;
const POLL_MS = 5 * 60_000;

export type CallResult =
  | { ok: true }
  | { ok: false; kind: 'quota-exhausted'; resetTime: number }
  | { ok: false; kind: 'capacity'; retryAfterMs: number };

/** The simulated upstream: generation consumes the quota model; faults as the scenario says. */
export class Upstream {
  calls = 0;
  rejected = 0;
  private readonly rand: () => number;
  constructor(
    readonly quota: QuotaModel,
    private readonly scenario: StudyScenario,
    private readonly clock: VirtualClock,
    seed: number,
  ) {
    this.rand = mulberry32(seed);
  }

  call(accountId: string, model: string): CallResult {
    this.calls++;
    const now = this.clock.now();
    const cap = this.scenario.capacity;
    if (cap && now >= cap.from && now < cap.until && this.rand() < cap.rate) {
      this.rejected++;
      return { ok: false, kind: 'capacity', retryAfterMs: CAPACITY_RETRY_MS };
    }
    const r = this.quota.consume(accountId, model, 1);
    if (r.ok) return { ok: true };
    this.rejected++;
    if (r.kind === 'QUOTA_EXHAUSTED') return { ok: false, kind: 'quota-exhausted', resetTime: r.resetTime };
    throw new Error(`study workload uses a model or account the quota model does not know: ${r.kind}`);
  }

  quotaApiUp(): boolean {
    const o = this.scenario.quotaOutage;
    const now = this.clock.now();
    return !o || now < o.from || now >= o.until;
  }

  /** What the quota API reports for an account (throws while it is down). */
  report(accountId: string): QuotaReport {
    if (!this.quotaApiUp())
      throw new ProviderError('transient', 'quota API unavailable (503)', { status: 503 });
    const now = this.clock.now();
    const models: ModelQuota[] = [];
    for (const m of DEFAULT_CATALOG) {
      const r = this.quota.readModel(accountId, m.id);
      if (r) {
        models.push({
          model: m.id,
          remainingFraction: r.fraction,
          resetTime: r.resetTime,
          source: 'models',
          fetchedAt: now,
        });
      }
    }
    return { accountId, fetchedAt: now, models, buckets: [] };
  }
}

export interface Attempt {
  accountId: string;
  done(result: CallResult): void;
}

export interface Policy {
  readonly name: string;
  /** Sets up before the first request (e.g. the engine's first quota fetch). */
  start?(): Promise<void>;
  /** The account to try next, or null when the policy has none to offer. */
  attempt(req: Req, exclude: ReadonlySet<string>): Attempt | null;
  dispose?(): Promise<void>;
}

const TIER_RANK: Record<string, number> = { ULTRA: 3, PRO: 2, FREE: 1 };

/** Cooldowns the baselines keep from the 429s they see. */
class Cooldowns {
  private readonly until = new Map<string, number>();
  constructor(
    private readonly clock: VirtualClock,
    private readonly quota: QuotaModel,
  ) {}
  private key(accountId: string, model: string): string {
    return `${accountId}|${this.quota.poolOfModel(model) ?? model}`;
  }
  cooling(accountId: string, model: string): boolean {
    return (this.until.get(this.key(accountId, model)) ?? 0) > this.clock.now();
  }
  learn(accountId: string, model: string, r: CallResult): void {
    if (r.ok) return;
    const until = r.kind === 'quota-exhausted' ? r.resetTime : this.clock.now() + r.retryAfterMs;
    this.until.set(this.key(accountId, model), until);
  }
}

export function reactiveRoundRobin(ids: readonly string[], clock: VirtualClock, quota: QuotaModel): Policy {
  const cool = new Cooldowns(clock, quota);
  let current = 0;
  return {
    name: 'reactive round-robin',
    attempt(req, exclude) {
      for (let k = 0; k < ids.length; k++) {
        const i = (current + k) % ids.length;
        const id = ids[i] as string;
        if (exclude.has(id) || cool.cooling(id, req.model)) continue;
        current = i;
        return {
          accountId: id,
          done: (r) => {
            cool.learn(id, req.model, r);
            if (!r.ok) current = (i + 1) % ids.length;
          },
        };
      }
      return null;
    },
  };
}

export function fillFirst(ids: readonly string[], clock: VirtualClock, quota: QuotaModel): Policy {
  const cool = new Cooldowns(clock, quota);
  return {
    name: 'fill-first',
    attempt(req, exclude) {
      const id = ids.find((a) => !exclude.has(a) && !cool.cooling(a, req.model));
      return id === undefined ? null : { accountId: id, done: (r) => cool.learn(id, req.model, r) };
    },
  };
}

export function tierThenQuota(
  accounts: readonly { id: string; tier: string }[],
  clock: VirtualClock,
  upstream: Upstream,
): Policy {
  const cool = new Cooldowns(clock, upstream.quota);
  const readings = new Map<string, Map<string, { fraction: number; resetTime: number }>>();
  let lastPoll = Number.NEGATIVE_INFINITY;
  const poll = (): void => {
    if (clock.now() - lastPoll < POLL_MS) return;
    lastPoll = clock.now();
    for (const a of accounts) {
      try {
        const rep = upstream.report(a.id);
        readings.set(
          a.id,
          new Map(
            rep.models.map((m) => [
              m.model,
              { fraction: m.remainingFraction ?? 1, resetTime: m.resetTime ?? 0 },
            ]),
          ),
        );
      } catch {
        // quota API down: keep the last readings
      }
    }
  };
  const fraction = (id: string, model: string): number => {
    const r = readings.get(id)?.get(model);
    if (!r) return 1;
    return r.fraction <= 0 && r.resetTime <= clock.now() ? 1 : r.fraction;
  };
  return {
    name: 'tier-then-quota',
    attempt(req, exclude) {
      poll();
      const ranked = accounts
        .filter((a) => !exclude.has(a.id) && !cool.cooling(a.id, req.model) && fraction(a.id, req.model) > 0)
        .sort(
          (x, y) =>
            (TIER_RANK[y.tier] ?? 0) - (TIER_RANK[x.tier] ?? 0) ||
            fraction(y.id, req.model) - fraction(x.id, req.model),
        );
      const first = ranked[0];
      return first === undefined
        ? null
        : { accountId: first.id, done: (r) => cool.learn(first.id, req.model, r) };
    },
  };
}

export function quotaPilot(
  accounts: readonly { id: string; tier: string }[],
  clock: VirtualClock,
  upstream: Upstream,
  floor?: number,
): Policy {
  const provider: QuotaProvider = {
    async fetchQuotas(account: Account): Promise<QuotaReport> {
      return upstream.report(account.id);
    },
    async fetchTier(account: Account) {
      return { tier: account.tier };
    },
  };
  const registry = new AccountRegistry();
  for (const a of accounts) {
    registry.add({
      id: a.id,
      email: `${a.id}@example.com`,
      label: a.id,
      tier: a.tier as Tier,
      status: { kind: 'active' },
    });
  }
  const manager = new QuotaManager({
    clock,
    provider,
    ttlMs: POLL_MS,
    ...(floor === undefined ? {} : { thresholds: { warn: 0.1, floor } }),
  });
  const ledger = new UsageLedger({ clock });
  const pool = new AccountPool({ clock, registry, manager, ledger });
  return {
    name: floor === undefined ? 'quota-pilot' : `quota-pilot floor ${floor * 100}%`,
    async start() {
      for (const a of registry.list()) await manager.refresh(a);
    },
    attempt(req, exclude) {
      let lease: Lease;
      try {
        lease = pool.acquire(req.model, req.session, { exclude });
      } catch (err) {
        if (err instanceof NoAccountCanServeError) return null;
        throw err;
      }
      return {
        accountId: lease.account.id,
        done: (r) => {
          if (r.ok) {
            pool.release(lease, { kind: 'success', usage: { inputTokens: 1_000, outputTokens: 200 } });
          } else if (r.kind === 'quota-exhausted') {
            const error = new ProviderError('quota-exhausted', 'quota exhausted (429)', {
              status: 429,
              resetTime: r.resetTime,
              retryAfterMs: r.resetTime - clock.now(),
              model: req.model,
            });
            pool.release(lease, { kind: 'error', error });
          } else {
            const error = new ProviderError('capacity', 'model capacity exhausted', {
              status: 429,
              retryAfterMs: r.retryAfterMs,
              model: req.model,
            });
            pool.release(lease, { kind: 'error', error });
          }
        },
      };
    },
    async dispose() {
      await ledger.dispose();
    },
  };
}

export interface StudyRow {
  scenario: string;
  policy: string;
  requests: number;
  served: number;
  failed: number;
  upstream429: number;
  upstreamCalls: number;
  optimum: number;
  stickiness: number;
  switches: number;
}

export const POLICIES = [
  'quota-pilot',
  'quota-pilot floor 0%',
  'reactive round-robin',
  'fill-first',
  'tier-then-quota',
] as const;
export type PolicyName = (typeof POLICIES)[number];

/**
 * An upper bound on requests servable. A request can only use the window of each account that
 * contains its arrival time, so per pool and per window kind (5h, weekly) the relaxation "each
 * account × window serves at most its capacity" is a matching of points (requests) to intervals
 * (windows) with capacities; taking requests in time order and giving each to the open window that
 * ends first solves it exactly. The bound is, per pool, the smaller of the two relaxations (each
 * ignores the other window kind, capacity errors and the quota already used at the start).
 */
export function offlineOptimum(scenario: StudyScenario): number {
  const clock = new VirtualClock(START);
  const quota = quotaModelFor(parseScenario(scenario.sim), clock);
  const ids = quota.accountIds();
  const byPool = new Map<string, number[]>();
  for (const r of scenario.requests) {
    const p = quota.poolOfModel(r.model) ?? r.model;
    const list = byPool.get(p) ?? [];
    list.push(r.at);
    byPool.set(p, list);
  }
  const relaxation = (pool: string, times: readonly number[], w: '5h' | 'weekly'): number => {
    const capacity = ids.map((id) => quota.readWindow(id, pool, w).capacity);
    const used = new Map<string, number>();
    let served = 0;
    for (const at of times) {
      let bestKey: string | null = null;
      let bestEnd = Infinity;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] ?? '';
        const { start, end } = quota.windowBounds(id, w, at);
        const key = `${id}|${start}`;
        if ((used.get(key) ?? 0) < (capacity[i] ?? 0) && end < bestEnd) {
          bestKey = key;
          bestEnd = end;
        }
      }
      if (bestKey !== null) {
        used.set(bestKey, (used.get(bestKey) ?? 0) + 1);
        served++;
      }
    }
    return served;
  };
  let total = 0;
  for (const [pool, times] of byPool) {
    const sorted = [...times].sort((a, b) => a - b);
    total += Math.min(relaxation(pool, sorted, '5h'), relaxation(pool, sorted, 'weekly'));
  }
  return total;
}

export async function runStudy(scenario: StudyScenario, policyName: PolicyName, seed = 7): Promise<StudyRow> {
  const clock = new VirtualClock(START);
  const parsed = parseScenario(scenario.sim);
  const quota = quotaModelFor(parsed, clock);
  const upstream = new Upstream(quota, scenario, clock, seed);
  const accounts = parsed.accounts.map((a) => ({ id: a.id, tier: a.tier }));
  const ids = accounts.map((a) => a.id);
  const policy: Policy =
    policyName === 'quota-pilot'
      ? quotaPilot(accounts, clock, upstream)
      : policyName === 'quota-pilot floor 0%'
        ? quotaPilot(accounts, clock, upstream, 0)
        : policyName === 'reactive round-robin'
          ? reactiveRoundRobin(ids, clock, quota)
          : policyName === 'fill-first'
            ? fillFirst(ids, clock, quota)
            : tierThenQuota(accounts, clock, upstream);
  await policy.start?.();

  let served = 0;
  let failed = 0;
  const lastAccount = new Map<string, string>();
  let stayed = 0;
  let followUps = 0;
  let switches = 0;
  for (const req of scenario.requests) {
    if (req.at > clock.now()) await clock.advanceTo(req.at);
    const exclude = new Set<string>();
    let servedBy: string | null = null;
    for (let i = 0; i < MAX_ATTEMPTS && servedBy === null; i++) {
      const a = policy.attempt(req, exclude);
      if (!a) break;
      const r = upstream.call(a.accountId, req.model);
      a.done(r);
      if (r.ok) servedBy = a.accountId;
      else exclude.add(a.accountId);
    }
    if (servedBy === null) {
      failed++;
      continue;
    }
    served++;
    const prev = lastAccount.get(req.session);
    if (prev !== undefined) {
      followUps++;
      if (prev === servedBy) stayed++;
      else switches++;
    }
    lastAccount.set(req.session, servedBy);
  }
  await policy.dispose?.();
  return {
    scenario: scenario.name,
    policy: policy.name,
    requests: scenario.requests.length,
    served,
    failed,
    upstream429: upstream.rejected,
    upstreamCalls: upstream.calls,
    optimum: offlineOptimum(scenario),
    stickiness: followUps > 0 ? stayed / followUps : 1,
    switches,
  };
}

/** An aligned text table of study rows. */
export function formatStudyTable(rows: readonly StudyRow[]): string {
  const header = [
    'scenario',
    'policy',
    'requests',
    'served',
    'optimum≤',
    'client failures',
    'upstream 429s',
    'stickiness',
    'switches',
  ];
  const cells = rows.map((r) => [
    r.scenario,
    r.policy,
    String(r.requests),
    String(r.served),
    String(r.optimum),
    String(r.failed),
    String(r.upstream429),
    `${(r.stickiness * 100).toFixed(1)}%`,
    String(r.switches),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string =>
    c.map((x, i) => (i < 2 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/**
 * Turns an engine snapshot into the rows every view shows: one row per account × quota pool (models
 * of one pool share one quota, so listing each model would repeat the same number), with the
 * 5-hour and weekly buckets that cover the pool, the worst decision and the cooldown in force.
 */
import { catalogModel, poolOf } from '../../core/catalog';
import type { AccountSnapshot, EngineSnapshot } from '../../core/stateStore';
import type { DecisionKind, QuotaBucket, Tier } from '../../core/types';

export type Severity = 'ok' | 'warning' | 'error' | 'unknown';

// A Map: pools come from model names, and a name like "constructor" must not find Object's members.
const POOL_LABELS: ReadonlyMap<string, string> = new Map([
  ['claude', 'Claude'],
  ['gemini-pro', 'Gemini Pro'],
  ['gemini-flash', 'Gemini Flash'],
  ['gemini-image', 'Gemini Image'],
  ['gpt-oss', 'GPT-OSS'],
]);

export function poolLabel(pool: string): string {
  return POOL_LABELS.get(pool) ?? catalogModel(pool)?.displayName ?? pool;
}

export interface BucketView {
  window: '5h' | 'weekly';
  remaining: number | null;
  resetTime: number | null;
}

export interface PoolRow {
  pool: string;
  label: string;
  models: string[];
  /** Effective remaining: the minimum over the pool's models (each already the minimum over sources). */
  remaining: number | null;
  resetTime: number | null;
  decision: DecisionKind;
  severity: Severity;
  reason: string;
  cooldownUntil: number | null;
  degraded: boolean;
  freshness: 'fresh' | 'stale' | 'missing';
  buckets: BucketView[];
}

export interface AccountView {
  id: string;
  label: string;
  email: string;
  tier: Tier;
  status: AccountSnapshot['account']['status'];
  pools: PoolRow[];
  /** The pool with the least remaining quota (null when nothing is known). */
  lowest: PoolRow | null;
  lastSuccessAt: number | null;
  failing: boolean;
  lastError: string | null;
}

const DECISION_ORDER: Readonly<Record<DecisionKind, number>> = { proceed: 0, 'low-quota': 1, exhausted: 2 };

export function severityOf(decision: DecisionKind, remaining: number | null): Severity {
  if (decision === 'exhausted') return 'error';
  if (decision === 'low-quota') return 'warning';
  return remaining === null ? 'unknown' : 'ok';
}

function bucketsFor(models: readonly string[], buckets: readonly QuotaBucket[]): BucketView[] {
  const out: BucketView[] = [];
  for (const window of ['5h', 'weekly'] as const) {
    const covering = buckets.filter((b) => b.window === window && b.models.some((m) => models.includes(m)));
    if (covering.length === 0) continue;
    // Several buckets of one window over one pool: the tightest binds.
    const tightest = covering.reduce((a, b) =>
      (b.remainingFraction ?? Infinity) < (a.remainingFraction ?? Infinity) ? b : a,
    );
    out.push({ window, remaining: tightest.remainingFraction, resetTime: tightest.resetTime });
  }
  return out;
}

export function accountView(snap: AccountSnapshot): AccountView {
  const byPool = new Map<string, AccountSnapshot['models']>();
  for (const m of snap.models) {
    const pool = poolOf(m.model);
    const list = byPool.get(pool);
    if (list) list.push(m);
    else byPool.set(pool, [m]);
  }
  const pools: PoolRow[] = [];
  for (const [pool, models] of byPool) {
    let worst = models[0] as AccountSnapshot['models'][number];
    let remaining: number | null = null;
    let resetTime: number | null = null;
    let cooldownUntil: number | null = null;
    let degraded = false;
    let freshness: PoolRow['freshness'] = 'fresh';
    for (const m of models) {
      const d = m.decision;
      if (DECISION_ORDER[d.kind] > DECISION_ORDER[worst.decision.kind]) worst = m;
      if (d.remainingFraction !== null && (remaining === null || d.remainingFraction < remaining)) {
        remaining = d.remainingFraction;
        resetTime = d.resetTime;
      }
      if (d.cooldownUntil !== null) cooldownUntil = Math.max(cooldownUntil ?? 0, d.cooldownUntil);
      degraded ||= d.degraded;
      if (d.freshness === 'missing' || (d.freshness === 'stale' && freshness === 'fresh'))
        freshness = d.freshness;
    }
    if (resetTime === null)
      resetTime = models.find((m) => m.decision.resetTime !== null)?.decision.resetTime ?? null;
    const names = models.map((m) => m.model);
    pools.push({
      pool,
      label: poolLabel(pool),
      models: names,
      remaining,
      resetTime,
      decision: worst.decision.kind,
      severity: severityOf(worst.decision.kind, remaining),
      reason: worst.decision.reason,
      cooldownUntil,
      degraded,
      freshness,
      buckets: bucketsFor(names, snap.buckets),
    });
  }
  let lowest: PoolRow | null = null;
  for (const p of pools) {
    if (p.remaining !== null && (lowest === null || (lowest.remaining ?? 1) > p.remaining)) lowest = p;
  }
  return {
    id: snap.account.id,
    label: snap.account.label,
    email: snap.account.email,
    tier: snap.account.tier,
    status: snap.account.status,
    pools,
    lowest,
    lastSuccessAt: snap.fetch.lastSuccessAt,
    failing: snap.fetch.failing,
    lastError: snap.fetch.lastError?.message ?? null,
  };
}

export function accountViews(snapshot: EngineSnapshot): AccountView[] {
  return snapshot.accounts.map(accountView);
}

/**
 * Ranks the accounts that can serve a model, best first. Pure: same input, same order.
 *
 * 1. Excluded: accounts that are not active, decisions that are `exhausted`, cooldowns in force.
 * 2. Class: every `proceed` account before any `low-quota` one.
 * 3. Within a class, by score (higher first), a product of explainable factors:
 *      score = available × tier factor × reset factor × failure factor
 *    - available = effective remaining (minimum over sources) − reservedFraction (in-flight
 *      reservations), floored at 0; unknown remaining counts as `unknownRemaining` (default 0.5:
 *      unknown is not full, yet a fresh account without a reading yet is worth trying);
 *    - tier factor: ULTRA 1.3, PRO 1.15, FREE 1, UNKNOWN 0.9 (bigger tiers have more quota per %);
 *    - reset factor = 1 + resetBoost × max(0, 1 − timeToReset / resetHorizon): quota that resets
 *      within the horizon (default 24 h) is worth up to (1 + resetBoost)× — spend it before it is
 *      refilled anyway; quota that must last a week counts at face value;
 *    - failure factor = failurePenalty ^ (failures in the last failureWindow) (default 0.5 each, 10 min).
 * 4. Ties: account id, ascending (plain code-unit order, locale-independent).
 */
import { formatDuration, formatPercent } from './decision';
import type { Account, AccountId, Decision, Tier } from './types';

export interface RankCandidate {
  account: Account;
  /** The quota decision for this account × model. */
  decision: Decision;
  /** Fraction of quota already promised to in-flight work (0..1); default 0. */
  reservedFraction?: number;
  /** Times (ms since epoch) of recent failures on this account; those inside the window count. */
  failures?: readonly number[];
}

export interface RankOptions {
  tierFactors?: Partial<Record<Tier, number>>;
  /** Stand-in for an unknown remaining fraction; default 0.5. */
  unknownRemaining?: number;
  /** Resets further away than this get no boost; default 24 h. */
  resetHorizonMs?: number;
  /** Extra weight for quota resetting right now; default 1 (up to 2×). */
  resetBoost?: number;
  /** Window in which failures count; default 10 min. */
  failureWindowMs?: number;
  /** Score multiplier per recent failure; default 0.5. */
  failurePenalty?: number;
  /** Return at most this many entries (reasons are only built for those). */
  limit?: number;
}

export interface RankedAccount {
  accountId: AccountId;
  account: Account;
  decision: Decision;
  /** Higher is better; comparable only within one ranking. */
  score: number;
  /** Remaining minus reservations (null when the remaining is unknown). */
  available: number | null;
  recentFailures: number;
  /** E.g. "PRO, 62% left, resets in 1h20m". */
  reason: string;
}

export const DEFAULT_TIER_FACTORS: Readonly<Record<Tier, number>> = Object.freeze({
  ULTRA: 1.3,
  PRO: 1.15,
  FREE: 1,
  UNKNOWN: 0.9,
});

const HOUR = 3_600_000;

export function rankAccounts(
  candidates: readonly RankCandidate[],
  model: string,
  now: number,
  options: RankOptions = {},
): RankedAccount[] {
  const tf = options.tierFactors;
  const fUltra = tf?.ULTRA ?? DEFAULT_TIER_FACTORS.ULTRA;
  const fPro = tf?.PRO ?? DEFAULT_TIER_FACTORS.PRO;
  const fFree = tf?.FREE ?? DEFAULT_TIER_FACTORS.FREE;
  const fUnknown = tf?.UNKNOWN ?? DEFAULT_TIER_FACTORS.UNKNOWN;
  const unknownRemaining = options.unknownRemaining ?? 0.5;
  const horizon = options.resetHorizonMs ?? 24 * HOUR;
  const boost = options.resetBoost ?? 1;
  const failureSince = now - (options.failureWindowMs ?? 10 * 60_000);
  const penalty = options.failurePenalty ?? 0.5;

  const n = candidates.length;
  const scores = new Float64Array(n);
  const classes = new Uint8Array(n);
  const failureCounts = new Uint16Array(n);
  const order: number[] = [];

  for (let i = 0; i < n; i++) {
    const c = candidates[i] as RankCandidate;
    const d = c.decision;
    if (c.account.status.kind !== 'active' || d.kind === 'exhausted' || d.model !== model) continue;
    if (d.cooldownUntil !== null && d.cooldownUntil > now) continue;
    const remaining = d.remainingFraction;
    let available = (remaining ?? unknownRemaining) - (c.reservedFraction ?? 0);
    if (available < 0) available = 0;
    const tier = c.account.tier;
    const tierFactor = tier === 'ULTRA' ? fUltra : tier === 'PRO' ? fPro : tier === 'FREE' ? fFree : fUnknown;
    let resetFactor = 1;
    if (d.resetTime !== null && d.resetTime > now && horizon > 0) {
      const left = 1 - (d.resetTime - now) / horizon;
      if (left > 0) resetFactor += boost * left;
    }
    let failures = 0;
    const fs = c.failures;
    if (fs !== undefined)
      for (let j = 0; j < fs.length; j++) if ((fs[j] as number) >= failureSince) failures++;
    scores[i] = available * tierFactor * resetFactor * (failures === 0 ? 1 : penalty ** failures);
    classes[i] = d.kind === 'proceed' ? 0 : 1;
    failureCounts[i] = failures;
    order.push(i);
  }

  // One sort key per candidate: class first (proceed 0, low-quota 1), then higher score first.
  // Scores stay far below 1e6, so class × 1e6 − score orders both in one subtraction.
  const keys = new Float64Array(n);
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number;
    keys[i] = (classes[i] as number) * 1e6 - (scores[i] as number);
  }
  const compare = (a: number, b: number): number => {
    const byKey = (keys[a] as number) - (keys[b] as number);
    if (byKey !== 0) return byKey;
    const ia = (candidates[a] as RankCandidate).account.id;
    const ib = (candidates[b] as RankCandidate).account.id;
    return ia < ib ? -1 : ia > ib ? 1 : a - b;
  };
  const limit =
    options.limit === undefined ? order.length : Math.min(order.length, Math.max(0, options.limit));
  let top: number[];
  if (limit <= 16 && order.length > 64) {
    // Small top-k (what the pool asks for): insertion into a short sorted list, O(n·k), no full sort.
    top = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k] as number;
      if (top.length === limit && (limit === 0 || compare(i, top[limit - 1] as number) >= 0)) continue;
      let pos = top.length === limit ? limit - 1 : top.length;
      while (pos > 0 && compare(i, top[pos - 1] as number) < 0) {
        top[pos] = top[pos - 1] as number;
        pos--;
      }
      top[pos] = i;
    }
  } else {
    order.sort(compare);
    top = order;
  }

  const out: RankedAccount[] = new Array<RankedAccount>(limit);
  for (let k = 0; k < limit; k++) {
    const i = top[k] as number;
    const c = candidates[i] as RankCandidate;
    const d = c.decision;
    const reserved = c.reservedFraction ?? 0;
    const failures = failureCounts[i] as number;
    out[k] = {
      accountId: c.account.id,
      account: c.account,
      decision: d,
      score: scores[i] as number,
      available: d.remainingFraction === null ? null : Math.max(0, d.remainingFraction - reserved),
      recentFailures: failures,
      reason: rankReason(c.account.tier, d, reserved, failures, now),
    };
  }
  return out;
}

function rankReason(tier: Tier, d: Decision, reserved: number, failures: number, now: number): string {
  let s: string = tier;
  s += d.remainingFraction === null ? ', quota unknown' : `, ${formatPercent(d.remainingFraction)} left`;
  if (reserved > 0) s += ` (${formatPercent(reserved)} reserved)`;
  if (d.resetTime !== null && d.resetTime > now) s += `, resets in ${formatDuration(d.resetTime - now)}`;
  if (d.kind === 'low-quota') s += ', low';
  if (failures > 0) s += `, ${failures} recent failure${failures === 1 ? '' : 's'}`;
  if (d.degraded) s += ', cached';
  return s;
}

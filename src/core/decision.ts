/**
 * Pure decision logic: the effective remaining quota of a model (the minimum over its sources), the
 * proceed / low-quota / exhausted decision with its reason sentence, threshold validation, and the
 * small formatters the reasons use. No state, no clock: callers pass `now`.
 */
import { ConfigError, formatIssues } from './errors';
import type {
  Account,
  Cooldown,
  Decision,
  DecisionKind,
  Freshness,
  ModelQuota,
  QuotaSource,
  Thresholds,
} from './types';
import { ThresholdsSchema } from './types';

/** The binding reading of a model: the lowest remaining fraction over every source that has one. */
export interface EffectiveQuota {
  /** Minimum remaining fraction over readings that have one; null when none does (unknown, not full). */
  remainingFraction: number | null;
  /** The reset time of the binding reading (or, when nothing is known, the earliest reset seen). */
  resetTime: number | null;
  /** The source of the binding reading; null when unknown. */
  bindingSource: QuotaSource | null;
}

export const UNKNOWN_QUOTA: EffectiveQuota = Object.freeze({
  remainingFraction: null,
  resetTime: null,
  bindingSource: null,
});

/**
 * Effective remaining = min over readings with a remainingFraction. Ties go to the reading whose
 * quota resets later (that is the one that really binds: the other refills first).
 *
 * With `now`, readings whose reset time has passed are ignored: their number described the window
 * that just ended (the quota has been refilled since, by how much is unknown until the next fetch).
 */
export function effectiveQuota(readings: readonly ModelQuota[], now?: number): EffectiveQuota {
  let best: ModelQuota | undefined;
  let earliestReset: number | null = null;
  for (let i = 0; i < readings.length; i++) {
    const r = readings[i] as ModelQuota;
    if (now !== undefined && r.resetTime !== null && r.resetTime <= now) continue;
    if (r.resetTime !== null && (earliestReset === null || r.resetTime < earliestReset)) {
      earliestReset = r.resetTime;
    }
    if (r.remainingFraction === null) continue;
    if (
      best === undefined ||
      r.remainingFraction < (best.remainingFraction as number) ||
      (r.remainingFraction === best.remainingFraction && laterReset(r.resetTime, best.resetTime))
    ) {
      best = r;
    }
  }
  if (best === undefined) {
    return earliestReset === null
      ? UNKNOWN_QUOTA
      : { remainingFraction: null, resetTime: earliestReset, bindingSource: null };
  }
  return { remainingFraction: best.remainingFraction, resetTime: best.resetTime, bindingSource: best.source };
}

/**
 * Until when `effectiveQuota(readings)` holds: the earliest reset time among readings that have a
 * remaining fraction (after it, that reading is outdated). Infinity when none resets.
 */
export function quotaValidUntil(readings: readonly ModelQuota[]): number {
  let until = Infinity;
  for (const r of readings) {
    if (r.remainingFraction !== null && r.resetTime !== null && r.resetTime < until) until = r.resetTime;
  }
  return until;
}

function laterReset(a: number | null, b: number | null): boolean {
  if (a === null) return false;
  return b === null || a > b;
}

/** Validates thresholds; throws a ConfigError naming both values when floor >= warn or out of range. */
export function validateThresholds(input: unknown): Thresholds {
  const parsed = ThresholdsSchema.safeParse(input);
  if (parsed.success) return Object.freeze({ ...parsed.data });
  const t = input as Partial<Record<'warn' | 'floor', unknown>> | null;
  const warn = typeof t?.warn === 'number' ? formatPercent(t.warn) : String(t?.warn);
  const floor = typeof t?.floor === 'number' ? formatPercent(t.floor) : String(t?.floor);
  if (typeof t?.warn === 'number' && typeof t?.floor === 'number' && t.floor >= t.warn) {
    throw new ConfigError(
      `Quota thresholds are inconsistent: the floor (${floor}) must be lower than the warn threshold (${warn}). ` +
        'Lower quotaPilot.thresholds.floorPercent or raise quotaPilot.thresholds.warnPercent.',
      'quotaPilot.thresholds',
    );
  }
  throw new ConfigError(
    `Quota thresholds are invalid (warn ${warn}, floor ${floor}): ${formatIssues(parsed.error.issues)}. ` +
      'Use fractions between 0 and 1 with floor < warn, e.g. warn 0.10 and floor 0.05.',
    'quotaPilot.thresholds',
  );
}

/** "62%", "4.5%", "0%"; fractions in 0..1. */
export function formatPercent(fraction: number): string {
  const p = fraction * 100;
  if (p === 0 || p >= 10 || Number.isInteger(p)) return `${Math.round(p)}%`;
  return `${Math.round(p * 10) / 10}%`;
}

/** Compact duration: "45s", "12m", "1h20m", "3d4h". Negative or zero: "now". */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return 'now';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

export interface DecideInput {
  account: Account;
  model: string;
  quota: EffectiveQuota;
  freshness: Freshness;
  degraded: boolean;
  /** The cooldown in force (account-wide or for this model), if any. */
  cooldown: Cooldown | undefined;
  thresholds: Thresholds;
  now: number;
}

/**
 * The decision for one account × model.
 * - Account not active → exhausted, with the status reason.
 * - Cooldown in force → exhausted until it ends.
 * - Remaining < floor → exhausted; < warn → low-quota; otherwise proceed.
 * - Remaining unknown → proceed with freshness as given (usually "missing"): unknown is not full,
 *   but it must not block routing either — a wrong guess costs one 429, which the proxy handles by
 *   moving on and which then sets a cooldown. The prioritizer ranks unknown below known quota.
 */
export function decide(input: DecideInput): Decision {
  const { account, model, quota, freshness, degraded, cooldown, thresholds, now } = input;
  const remaining = quota.remainingFraction;
  let kind: DecisionKind;
  let reason: string;
  let cooldownUntil: number | null = null;
  if (account.status.kind !== 'active') {
    kind = 'exhausted';
    reason = `${account.label} is ${account.status.kind}: ${account.status.reason}`;
  } else if (cooldown !== undefined && cooldown.until > now) {
    kind = 'exhausted';
    cooldownUntil = cooldown.until;
    const scope = cooldown.model === null ? 'account' : cooldown.model;
    reason = `Cooling down (${cooldown.kind}, ${scope}) for ${formatDuration(cooldown.until - now)}: ${cooldown.reason}`;
  } else if (remaining === null) {
    kind = 'proceed';
    reason = degraded
      ? `Quota for ${model} unknown (last fetch failed); routing allowed, a 429 will move on`
      : freshness === 'stale'
        ? `Quota for ${model} has reset since the last reading; routing allowed while it refreshes`
        : `Quota for ${model} not known yet; routing allowed, a 429 will move on`;
  } else if (remaining < thresholds.floor) {
    kind = 'exhausted';
    reason = `${formatPercent(remaining)} left of ${model}, below the ${formatPercent(thresholds.floor)} floor${resetSuffix(quota.resetTime, now)}`;
  } else if (remaining < thresholds.warn) {
    kind = 'low-quota';
    reason = `Low: ${formatPercent(remaining)} left of ${model}${resetSuffix(quota.resetTime, now)}`;
  } else {
    kind = 'proceed';
    reason = `${formatPercent(remaining)} left of ${model}${resetSuffix(quota.resetTime, now)}`;
  }
  if (degraded && remaining !== null) reason += ' (last refresh failed; using cached data)';
  else if (freshness === 'stale' && remaining !== null) reason += ' (refreshing)';
  return {
    kind,
    accountId: account.id,
    model,
    remainingFraction: remaining,
    resetTime: quota.resetTime,
    bindingSource: quota.bindingSource,
    reason,
    degraded,
    freshness,
    cooldownUntil,
  };
}

function resetSuffix(resetTime: number | null, now: number): string {
  if (resetTime === null) return '';
  return resetTime > now ? `, resets in ${formatDuration(resetTime - now)}` : ', reset time passed';
}

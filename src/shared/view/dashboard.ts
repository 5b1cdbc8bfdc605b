/**
 * The dashboard's chart and alerts, as plain data: history samples from a snapshot, the chart's
 * series per account × pool (percent remaining, labelled), and the alerts list with local times.
 * Pure (time zone and "now" are parameters); the cards and proxy panel are in dashboardModel.ts.
 */
import type { HistorySample, HistorySeries } from '../../core/history';
import type { LedgerAlert } from '../../core/ledger/schema';
import type { EngineSnapshot } from '../../core/stateStore';
import type { TimeContext } from './format';
import { formatLocalTime } from './format';
import { accountViews, poolLabel } from './quotaRows';

export interface ChartLine {
  account: string;
  accountLabel: string;
  pool: string;
  poolLabel: string;
  /** Percent remaining (0..100) per time, null where unknown. */
  values: Array<number | null>;
}

export interface ChartModel {
  /** Epoch seconds (what uPlot's time axis takes). */
  times: number[];
  /** The pools that have a line, for the pool selector. */
  pools: Array<{ pool: string; label: string }>;
  lines: ChartLine[];
}

export interface AlertView {
  id: string;
  /** error: nothing left in the window; warning: a usage threshold was crossed. */
  level: 'warning' | 'error';
  /** Percent used that was crossed. */
  percentUsed: number;
  account: string;
  accountLabel: string;
  model: string;
  firedAt: number;
  /** firedAt in the user's local time ("14:05", "tomorrow 09:30", "Tue 15:00"). */
  when: string;
  text: string;
}

/** The remaining quota of every account × pool in a snapshot, to feed the history. */
export function historySamples(snapshot: EngineSnapshot | null): HistorySample[] {
  if (!snapshot) return [];
  return accountViews(snapshot).flatMap((a) =>
    a.pools.map((p) => ({ account: a.id, pool: p.pool, remaining: p.remaining })),
  );
}

/** The chart's series with labels from the snapshot (accounts that left keep their id as label). */
export function chartModel(history: HistorySeries, snapshot: EngineSnapshot | null): ChartModel {
  const labels = new Map<string, string>();
  for (const a of snapshot?.accounts ?? []) labels.set(a.account.id, a.account.label || a.account.email);
  const lines = history.lines
    .filter((l) => l.values.some((v) => v !== null))
    .map((l): ChartLine => ({
      account: l.account,
      accountLabel: labels.get(l.account) ?? l.account,
      pool: l.pool,
      poolLabel: poolLabel(l.pool),
      values: l.values.map((v) => (v === null ? null : Math.round(v * 1000) / 10)),
    }));
  const pools = new Map<string, string>();
  for (const l of lines) if (!pools.has(l.pool)) pools.set(l.pool, l.poolLabel);
  return {
    times: history.times.map((t) => Math.floor(t / 1000)),
    pools: [...pools].map(([pool, label]) => ({ pool, label })),
    lines,
  };
}

/** The alerts list, newest first, at most `limit`, duplicates (same id) shown once. */
export function alertViews(
  alerts: readonly LedgerAlert[],
  snapshot: EngineSnapshot | null,
  ctx: TimeContext,
  limit = 50,
): AlertView[] {
  const labels = new Map<string, string>();
  for (const a of snapshot?.accounts ?? []) labels.set(a.account.id, a.account.label || a.account.email);
  const seen = new Set<string>();
  return [...alerts]
    .sort((x, y) => y.firedAt - x.firedAt)
    .filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)))
    .slice(0, limit)
    .map((a): AlertView => {
      const accountLabel = labels.get(a.account) ?? a.account;
      const what = a.exhausted ? 'exhausted' : `${a.level}% used`;
      const source = a.source === 'limit' ? 'your limit' : "the provider's quota";
      return {
        id: a.id,
        level: a.exhausted ? 'error' : 'warning',
        percentUsed: a.level,
        account: a.account,
        accountLabel,
        model: a.model,
        firedAt: a.firedAt,
        when: formatLocalTime(a.firedAt, ctx),
        // The provider's scope only repeats the model; a user limit says which limit it is.
        text: `${accountLabel} · ${a.model}: ${what} of ${source}${a.source === 'limit' ? ` (${a.scope})` : ''}`,
      };
    });
}

export const EMPTY_CHART: ChartModel = { times: [], pools: [], lines: [] };

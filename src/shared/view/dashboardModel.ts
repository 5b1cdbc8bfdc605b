/**
 * The dashboard's view model: a card per account with a bar per quota pool (effective remaining,
 * and the 5-hour and weekly buckets), reset times, tier and status with the action that fixes a
 * problem, and the proxy panel. Plain data, computed from a snapshot; the webview only renders it.
 */
import type { EngineSnapshot } from '../../core/stateStore';
import type { AlertView, ChartModel } from './dashboard';
import { EMPTY_CHART } from './dashboard';
import type { Severity } from './quotaRows';
import { accountViews } from './quotaRows';

export interface BarView {
  label: string;
  /** 0..100, or null when unknown. */
  percent: number | null;
  severity: Severity;
  /** Epoch ms; the webview counts down to it. */
  resetTime: number | null;
}

export interface PoolCard {
  pool: string;
  label: string;
  effective: BarView;
  buckets: BarView[];
  cooldownUntil: number | null;
  reason: string;
}

export interface AccountCard {
  id: string;
  label: string;
  email: string;
  tier: string;
  status: string;
  pinned: boolean;
  problem: { text: string; action: 'openVerification' | 'signInAgain' | null } | null;
  pools: PoolCard[];
  lastSuccessAt: number | null;
  failing: boolean;
}

export interface DashboardModel {
  generatedAt: number;
  accounts: AccountCard[];
  proxy: {
    enabled: boolean;
    running: boolean;
    url: string | null;
    requests: number;
    avoided429: number;
    failovers: number;
    error: string | null;
  };
  empty: boolean;
  /** Remaining quota over time per account × pool (see dashboard.ts). */
  chart: ChartModel;
  /** Threshold alerts from the ledger, newest first. */
  alerts: AlertView[];
}

function pct(f: number | null): number | null {
  return f === null ? null : Math.round(f * 1000) / 10;
}

function sev(f: number | null, warn: number, floor: number): Severity {
  if (f === null) return 'unknown';
  return f < floor ? 'error' : f < warn ? 'warning' : 'ok';
}

export function dashboardModel(
  snapshot: EngineSnapshot | null,
  ctx: {
    now: number;
    pinnedAccountId: string | null;
    proxy: DashboardModel['proxy'];
    chart?: ChartModel;
    alerts?: AlertView[];
  },
): DashboardModel {
  const views = snapshot ? accountViews(snapshot) : [];
  const warn = snapshot?.thresholds.warn ?? 0.1;
  const floor = snapshot?.thresholds.floor ?? 0.05;
  const accounts = views.map((v): AccountCard => {
    const s = v.status;
    const problem =
      s.kind === 'active'
        ? null
        : {
            text: s.reason,
            action:
              s.kind === 'needs-verification'
                ? ('openVerification' as const)
                : s.kind === 'disabled' && /sign in/i.test(s.reason)
                  ? ('signInAgain' as const)
                  : null,
          };
    return {
      id: v.id,
      label: v.label,
      email: v.email,
      tier: v.tier,
      status: s.kind === 'active' ? (v.failing ? 'quota API failing' : 'active') : s.kind.replace('-', ' '),
      pinned: v.id === ctx.pinnedAccountId,
      problem,
      pools: v.pools.map((p) => ({
        pool: p.pool,
        label: p.label,
        effective: {
          label: 'Remaining',
          percent: pct(p.remaining),
          severity: p.severity,
          resetTime: p.resetTime,
        },
        buckets: p.buckets.map((b) => ({
          label: b.window === '5h' ? '5-hour' : 'Weekly',
          percent: pct(b.remaining),
          severity: sev(b.remaining, warn, floor),
          resetTime: b.resetTime,
        })),
        cooldownUntil: p.cooldownUntil !== null && p.cooldownUntil > ctx.now ? p.cooldownUntil : null,
        reason: p.reason,
      })),
      lastSuccessAt: v.lastSuccessAt,
      failing: v.failing,
    };
  });
  return {
    generatedAt: ctx.now,
    accounts,
    proxy: ctx.proxy,
    empty: accounts.length === 0,
    chart: ctx.chart ?? EMPTY_CHART,
    alerts: ctx.alerts ?? [],
  };
}

/**
 * What the status bar item shows: computed here from a snapshot, rendered by the extension.
 * The item answers "how much is left, on what, until when?" for what matters now: the pinned
 * account, else the account the proxy used last, else the account with the least quota left.
 */
import type { EngineSnapshot } from '../../core/stateStore';
import type { TimeContext } from './format';
import { formatAgo, formatCountdown, formatLocalTime, formatRemaining } from './format';
import type { AccountView, PoolRow, Severity } from './quotaRows';
import { accountViews, poolLabel } from './quotaRows';

export type StatusState = 'signed-out' | 'loading' | 'degraded' | 'stale' | 'proxy-stopped' | 'ok';

export interface StatusBarContext extends TimeContext {
  pinnedAccountId?: string | null;
  /** The account the proxy routed to last, and the model it served. */
  currentAccountId?: string | null;
  currentModel?: string | null;
  proxy: { enabled: boolean; running: boolean; url?: string | null };
  /** Template with {account} {pool} {remaining} {reset} {tier}; see STATUS_FORMAT_PLACEHOLDERS. */
  format: string;
  /** A last successful refresh older than this makes the item "stale". */
  staleAfterMs: number;
}

export interface StatusBarModel {
  state: StatusState;
  /** Text with a leading codicon, e.g. "$(pulse) work: Claude 62%". */
  text: string;
  severity: Severity;
  /** Which themed background to use; null = the default. */
  background: 'warning' | 'error' | null;
  accessibilityLabel: string;
  focus: { accountId: string; pool: string | null } | null;
}

export const DEFAULT_STATUS_FORMAT = '{account}: {pool} {remaining}';
export const STATUS_FORMAT_PLACEHOLDERS = ['account', 'pool', 'remaining', 'reset', 'tier'] as const;

/** Null when the template is fine, else a sentence saying what is wrong. */
export function validateStatusFormat(format: string): string | null {
  if (format.trim().length === 0)
    return 'The status bar format is empty; use e.g. "{account}: {pool} {remaining}".';
  if (format.length > 120) return 'The status bar format is longer than 120 characters.';
  const unknown = [...format.matchAll(/\{([^}]*)\}/g)]
    .map((m) => m[1] as string)
    .filter((name) => !(STATUS_FORMAT_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    return `Unknown placeholder ${unknown.map((u) => `{${u}}`).join(', ')} in the status bar format; use ${STATUS_FORMAT_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}.`;
  }
  return null;
}

const ICONS: Readonly<Record<StatusState, string>> = {
  'signed-out': '$(account)',
  loading: '$(loading~spin)',
  degraded: '$(warning)',
  stale: '$(history)',
  'proxy-stopped': '$(debug-disconnect)',
  ok: '$(pulse)',
};

function pickFocus(
  views: readonly AccountView[],
  ctx: StatusBarContext,
): { account: AccountView; pool: PoolRow | null } | null {
  const byId = (id: string | null | undefined): AccountView | undefined =>
    id ? views.find((v) => v.id === id) : undefined;
  const poolFor = (a: AccountView): PoolRow | null => {
    if (ctx.currentModel && a.id === ctx.currentAccountId) {
      const p = a.pools.find((r) => r.models.includes(ctx.currentModel as string));
      if (p) return p;
    }
    return a.lowest ?? a.pools[0] ?? null;
  };
  const chosen = byId(ctx.pinnedAccountId) ?? byId(ctx.currentAccountId);
  if (chosen) return { account: chosen, pool: poolFor(chosen) };
  // Nothing pinned or used yet: the active account whose scarcest pool is lowest.
  const active = views.filter((v) => v.status.kind === 'active');
  let best: AccountView | undefined;
  for (const v of active) {
    if (!best || (v.lowest?.remaining ?? 1) < (best.lowest?.remaining ?? 1)) best = v;
  }
  const account = best ?? views[0];
  return account ? { account, pool: poolFor(account) } : null;
}

function render(format: string, values: Record<(typeof STATUS_FORMAT_PLACEHOLDERS)[number], string>): string {
  return format
    .replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in values ? values[name as keyof typeof values] : whole,
    )
    .replace(/\s+/g, ' ')
    .trim();
}

export function statusBarModel(snapshot: EngineSnapshot | null, ctx: StatusBarContext): StatusBarModel {
  if (snapshot === null) {
    return {
      state: 'loading',
      text: `${ICONS.loading} Quota Pilot`,
      severity: 'unknown',
      background: null,
      accessibilityLabel: 'Quota Pilot is starting',
      focus: null,
    };
  }
  const views = accountViews(snapshot);
  if (views.length === 0) {
    return {
      state: 'signed-out',
      text: `${ICONS['signed-out']} Quota Pilot: add an account`,
      severity: 'unknown',
      background: null,
      accessibilityLabel: 'Quota Pilot: no accounts. Click to add one.',
      focus: null,
    };
  }
  const focus = pickFocus(views, ctx) as { account: AccountView; pool: PoolRow | null };
  const { account, pool } = focus;
  const anyData = views.some((v) => v.lastSuccessAt !== null);
  const newest = Math.max(...views.map((v) => v.lastSuccessAt ?? 0));
  let state: StatusState = 'ok';
  if (!anyData && views.some((v) => !v.failing)) state = 'loading';
  else if (views.some((v) => v.status.kind === 'active' && v.failing)) state = 'degraded';
  else if (ctx.now - newest > ctx.staleAfterMs) state = 'stale';
  else if (ctx.proxy.enabled && !ctx.proxy.running) state = 'proxy-stopped';

  let severity: Severity = pool?.severity ?? 'unknown';
  if (account.status.kind !== 'active') severity = 'error';
  const background = severity === 'error' ? 'error' : severity === 'warning' ? 'warning' : null;

  const remaining =
    account.status.kind !== 'active'
      ? account.status.kind.replace('-', ' ')
      : formatRemaining(pool?.remaining ?? null);
  const reset = pool?.cooldownUntil
    ? formatCountdown(pool.cooldownUntil, ctx.now)
    : pool
      ? formatCountdown(pool.resetTime, ctx.now)
      : '';
  const body =
    state === 'loading'
      ? 'Quota Pilot: loading quota…'
      : render(ctx.format, {
          account: account.label,
          pool: pool ? pool.label : '',
          remaining,
          reset,
          tier: account.tier,
        });
  const suffix: Partial<Record<StatusState, string>> = {
    degraded: ' (quota API failing)',
    stale: ` (updated ${formatAgo(newest || null, ctx.now)})`,
    'proxy-stopped': ' (proxy stopped)',
  };
  const label =
    `Quota Pilot: ${account.label}, ${pool ? `${poolLabel(pool.pool)} ${remaining} left` : 'no quota data'}` +
    (pool?.resetTime ? `, resets ${formatLocalTime(pool.resetTime, ctx)}` : '') +
    (suffix[state] ?? '');
  return {
    state,
    text: `${ICONS[state]} ${body}`,
    severity,
    background,
    accessibilityLabel: label,
    focus: { accountId: account.id, pool: pool?.pool ?? null },
  };
}

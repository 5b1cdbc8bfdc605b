/**
 * The tree view's content: accounts → quota pools → 5-hour / weekly buckets, plus problem items whose
 * action fixes the problem (verify the account, sign in again). Plain data; the extension maps it
 * onto TreeItems (icon ids are codicons, colours are theme colour ids).
 */
import type { EngineSnapshot } from '../../core/stateStore';
import type { TimeContext } from './format';
import { formatCountdown, formatLocalTime, formatRemaining } from './format';
import type { AccountView, PoolRow, Severity } from './quotaRows';
import { accountViews } from './quotaRows';

export interface TreeIcon {
  id: string;
  color?: string;
}

export interface TreeCommand {
  command: string;
  title: string;
  args: Array<string | number>;
}

export interface TreeNode {
  /** Stable across refreshes, so the tree keeps its expansion state. */
  id: string;
  kind: 'account' | 'pool' | 'bucket' | 'problem' | 'cooldown' | 'placeholder';
  label: string;
  description: string;
  tooltip: string;
  icon: TreeIcon;
  /** For `when` clauses of menus: e.g. "account active pinned". */
  contextValue: string;
  expanded: boolean | null;
  command: TreeCommand | null;
  children: TreeNode[];
}

const SEVERITY_COLOR: Readonly<Record<Severity, string | undefined>> = {
  ok: 'charts.green',
  warning: 'charts.yellow',
  error: 'charts.red',
  unknown: undefined,
};

const TIER_ICON: Readonly<Record<string, string>> = {
  ULTRA: 'star-full',
  PRO: 'star-half',
  FREE: 'star-empty',
};

export interface TreeContext extends TimeContext {
  pinnedAccountId?: string | null;
  currentAccountId?: string | null;
}

function resetText(time: number | null, ctx: TreeContext): string {
  return time === null
    ? 'reset unknown'
    : `resets ${formatCountdown(time, ctx.now)} (${formatLocalTime(time, ctx)})`;
}

function poolNode(account: AccountView, p: PoolRow, ctx: TreeContext): TreeNode {
  const id = `${account.id}/${p.pool}`;
  const children: TreeNode[] = p.buckets.map((b) => ({
    id: `${id}/${b.window}`,
    kind: 'bucket',
    label: b.window === '5h' ? '5-hour window' : 'Weekly window',
    description: `${formatRemaining(b.remaining)} · ${resetText(b.resetTime, ctx)}`,
    tooltip: `${b.window === '5h' ? '5-hour' : 'Weekly'} bucket covering ${p.models.join(', ')}`,
    icon: { id: b.window === '5h' ? 'clock' : 'calendar' },
    contextValue: 'bucket',
    expanded: null,
    command: null,
    children: [],
  }));
  if (p.cooldownUntil !== null && p.cooldownUntil > ctx.now) {
    children.unshift({
      id: `${id}/cooldown`,
      kind: 'cooldown',
      label: 'Cooling down',
      description: `until ${formatLocalTime(p.cooldownUntil, ctx)} (${formatCountdown(p.cooldownUntil, ctx.now)})`,
      tooltip: p.reason,
      icon: { id: 'watch', color: 'charts.orange' },
      contextValue: 'cooldown',
      expanded: null,
      command: null,
      children: [],
    });
  }
  return {
    id,
    kind: 'pool',
    label: p.label,
    description: `${formatRemaining(p.remaining)} · ${resetText(p.resetTime, ctx)}${p.degraded ? ' · last known' : ''}`,
    tooltip: `${p.reason}\nModels: ${p.models.join(', ')}`,
    icon: {
      id: p.severity === 'error' ? 'error' : p.severity === 'warning' ? 'warning' : 'pass',
      color: SEVERITY_COLOR[p.severity],
    },
    contextValue: 'pool',
    expanded: children.length > 0 ? false : null,
    command: null,
    children,
  };
}

function problemNode(account: AccountView): TreeNode | null {
  const s = account.status;
  if (s.kind === 'active') return null;
  const base = { kind: 'problem' as const, expanded: null, children: [], id: `${account.id}/problem` };
  if (s.kind === 'needs-verification') {
    return {
      ...base,
      label: 'Verify this account',
      description: 'opens the provider’s page',
      tooltip: s.reason,
      icon: { id: 'shield', color: 'charts.yellow' },
      contextValue: 'problem verify',
      command: s.url
        ? { command: 'quotaPilot.openVerification', title: 'Verify account', args: [account.id] }
        : null,
    };
  }
  if (s.kind === 'disabled' && /sign in/i.test(s.reason)) {
    return {
      ...base,
      label: 'Sign in again',
      description: s.reason,
      tooltip: 'The saved sign-in no longer works. Click to sign in again.',
      icon: { id: 'sign-in', color: 'charts.red' },
      contextValue: 'problem signin',
      command: { command: 'quotaPilot.signInAgain', title: 'Sign in again', args: [account.id] },
    };
  }
  return {
    ...base,
    label: s.kind === 'disabled' ? 'Disabled' : 'Restricted',
    description: s.reason,
    tooltip: s.reason,
    icon: { id: s.kind === 'disabled' ? 'circle-slash' : 'error', color: 'charts.red' },
    contextValue: s.kind === 'disabled' ? 'problem enable' : 'problem restricted',
    command:
      s.kind === 'disabled'
        ? { command: 'quotaPilot.enableAccount', title: 'Enable account', args: [account.id] }
        : s.url
          ? { command: 'quotaPilot.openVerification', title: 'Open details', args: [account.id] }
          : null,
  };
}

export function treeNodes(snapshot: EngineSnapshot | null, ctx: TreeContext): TreeNode[] {
  if (snapshot === null) return [];
  return accountViews(snapshot).map((a) => {
    const pinned = a.id === ctx.pinnedAccountId;
    const current = a.id === ctx.currentAccountId;
    const problem = problemNode(a);
    const children = [...(problem ? [problem] : []), ...a.pools.map((p) => poolNode(a, p, ctx))];
    const status = a.status.kind === 'active' ? (a.failing ? 'quota API failing' : 'active') : a.status.kind;
    const flags = [pinned ? 'pinned' : '', current ? 'current' : ''].filter(Boolean);
    const worst = a.status.kind !== 'active' ? 'error' : (a.lowest?.severity ?? 'unknown');
    return {
      id: a.id,
      kind: 'account',
      label: a.label,
      description: [a.tier, status, ...flags].join(' · '),
      tooltip: `${a.email}\nTier: ${a.tier}\nStatus: ${a.status.kind === 'active' ? 'active' : a.status.reason}${a.lastError ? `\nLast error: ${a.lastError}` : ''}`,
      icon: { id: pinned ? 'pinned' : (TIER_ICON[a.tier] ?? 'account'), color: SEVERITY_COLOR[worst] },
      contextValue: [
        'account',
        a.status.kind === 'active' ? 'active' : 'inactive',
        pinned ? 'pinned' : 'unpinned',
        current ? 'current' : '',
      ]
        .filter(Boolean)
        .join(' '),
      expanded: true,
      command: null,
      children:
        children.length > 0
          ? children
          : [
              {
                id: `${a.id}/placeholder`,
                kind: 'placeholder',
                label: 'No quota data yet',
                description: 'refreshing…',
                tooltip: 'The first refresh has not finished.',
                icon: { id: 'loading~spin' },
                contextValue: 'placeholder',
                expanded: null,
                command: null,
                children: [],
              },
            ],
    };
  });
}

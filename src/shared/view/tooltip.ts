/**
 * The status bar tooltip as Markdown: a table of accounts × quota pools with remaining %, the reset
 * countdown and local time, when the data was fetched, and command links. The extension wraps it
 * in a MarkdownString trusted for exactly the commands listed in TOOLTIP_COMMANDS.
 */
import type { EngineSnapshot } from '../../core/stateStore';
import type { TimeContext } from './format';
import { formatAgo, formatCountdown, formatLocalTime, formatRemaining } from './format';
import { accountViews } from './quotaRows';
import type { StatusBarModel } from './statusBar';

export const TOOLTIP_COMMANDS = [
  'quotaPilot.switchAccount',
  'quotaPilot.refreshNow',
  'quotaPilot.openDashboard',
  'quotaPilot.addAccount',
  'quotaPilot.startProxy',
] as const;

/** Escapes text for a Markdown table cell. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}

const SEVERITY_ICON = {
  ok: '$(pass)',
  warning: '$(warning)',
  error: '$(error)',
  unknown: '$(question)',
} as const;

export interface TooltipContext extends TimeContext {
  model: StatusBarModel;
  pinnedAccountId?: string | null;
  proxyUrl?: string | null;
}

export function tooltipMarkdown(snapshot: EngineSnapshot | null, ctx: TooltipContext): string {
  const lines: string[] = ['**Quota Pilot**', ''];
  if (snapshot === null) return [...lines, 'Starting…'].join('\n');
  const views = accountViews(snapshot);
  if (views.length === 0) {
    lines.push('No accounts yet.', '', `[$(add) Add account](command:quotaPilot.addAccount)`);
    return lines.join('\n');
  }
  lines.push('| | Account | Quota | Left | Resets |', '|:-:|:--|:--|--:|:--|');
  for (const v of views) {
    const marks = [
      v.id === ctx.pinnedAccountId ? '$(pinned)' : '',
      v.id === ctx.model.focus?.accountId ? '$(arrow-right)' : '',
    ]
      .filter(Boolean)
      .join(' ');
    const name = `${marks ? `${marks} ` : ''}${escapeMarkdown(v.label)} · ${v.tier}`;
    if (v.status.kind !== 'active') {
      lines.push(`| $(error) | ${name} | ${escapeMarkdown(v.status.reason)} | — | — |`);
      continue;
    }
    if (v.pools.length === 0) {
      lines.push(`| $(question) | ${name} | no data yet | ? | — |`);
      continue;
    }
    v.pools.forEach((p, i) => {
      const until = p.cooldownUntil ?? p.resetTime;
      const reset =
        until === null
          ? 'unknown'
          : `${formatCountdown(until, ctx.now)} (${escapeMarkdown(formatLocalTime(until, ctx))})${p.cooldownUntil ? ' · cooling down' : ''}`;
      lines.push(
        `| ${SEVERITY_ICON[p.severity]} | ${i === 0 ? name : ''} | ${escapeMarkdown(p.label)} | ${formatRemaining(p.remaining)} | ${reset} |`,
      );
    });
  }
  const newest = Math.max(0, ...views.map((v) => v.lastSuccessAt ?? 0));
  lines.push('', `Last updated ${formatAgo(newest || null, ctx.now)}.`);
  const failing = views.filter((v) => v.failing);
  if (failing.length > 0) {
    lines.push(
      `$(warning) Quota API failing for ${failing.map((v) => escapeMarkdown(v.label)).join(', ')}: routing on last known data.`,
    );
  }
  if (ctx.proxyUrl) lines.push(`Proxy: \`${ctx.proxyUrl}\``);
  lines.push(
    '',
    '[$(arrow-swap) Switch account](command:quotaPilot.switchAccount) · ' +
      '[$(refresh) Refresh](command:quotaPilot.refreshNow) · ' +
      '[$(dashboard) Dashboard](command:quotaPilot.openDashboard)',
  );
  return lines.join('\n');
}

/**
 * Formatting shared by the status bar, tooltip, tree and dashboard. Pure: the time zone and locale
 * are parameters, so tests pin them and the extension passes the user's.
 */
import { formatDuration, formatPercent } from '../../core/decision';

export { formatDuration, formatPercent };

export interface TimeContext {
  now: number;
  /** IANA zone, e.g. "Europe/Berlin"; undefined = the host's. */
  timeZone?: string;
  /** BCP 47 locale; undefined = the host's. */
  locale?: string;
}

/** "in 1h20m", "in 3d4h", "now"; "unknown" for null. */
export function formatCountdown(until: number | null, now: number): string {
  if (until === null) return 'unknown';
  const ms = until - now;
  return ms > 0 ? `in ${formatDuration(ms)}` : 'now';
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(key: string, options: Intl.DateTimeFormatOptions, ctx: TimeContext): Intl.DateTimeFormat {
  const k = `${key}|${ctx.locale ?? ''}|${ctx.timeZone ?? ''}`;
  let f = formatters.get(k);
  if (!f) {
    f = new Intl.DateTimeFormat(ctx.locale ?? 'en-GB', { ...options, timeZone: ctx.timeZone });
    formatters.set(k, f);
  }
  return f;
}

function dayKey(time: number, ctx: TimeContext): string {
  return formatter('day', { year: 'numeric', month: '2-digit', day: '2-digit' }, ctx).format(time);
}

/**
 * A reset time in the user's local time, as short as it can be while unambiguous:
 * "15:00" today, "tomorrow 09:30", "Tue 15:00" within a week, "30 Nov 15:00" later.
 */
export function formatLocalTime(time: number | null, ctx: TimeContext): string {
  if (time === null) return 'unknown';
  const clock = formatter('hm', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }, ctx).format(time);
  if (dayKey(time, ctx) === dayKey(ctx.now, ctx)) return clock;
  if (dayKey(time, ctx) === dayKey(ctx.now + 86_400_000, ctx)) return `tomorrow ${clock}`;
  const days = (time - ctx.now) / 86_400_000;
  if (days > 0 && days < 6.5) return `${formatter('wd', { weekday: 'short' }, ctx).format(time)} ${clock}`;
  return `${formatter('dm', { day: 'numeric', month: 'short' }, ctx).format(time)} ${clock}`;
}

/** "in 1h20m (15:00)" — the countdown with the local time beside it. */
export function formatReset(time: number | null, ctx: TimeContext): string {
  if (time === null) return 'reset time unknown';
  if (time <= ctx.now) return 'resetting now';
  return `${formatCountdown(time, ctx.now)} (${formatLocalTime(time, ctx)})`;
}

/** "62%", or "?" when unknown. */
export function formatRemaining(fraction: number | null): string {
  return fraction === null ? '?' : formatPercent(fraction);
}

/** "5m ago", "just now", "never". */
export function formatAgo(time: number | null, now: number): string {
  if (time === null) return 'never';
  const ms = now - time;
  if (ms < 5_000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

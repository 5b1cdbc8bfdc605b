/** The daily summary as an aligned text table, for the CLI and the log. */
import type { DailySummary, SummaryRow } from './schema';

const timeFormatters = new Map<string, Intl.DateTimeFormat>();

function formatLocal(t: number, timeZone: string): string {
  let f = timeFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    timeFormatters.set(timeZone, f);
  }
  return f.format(t).replace(',', '');
}

/** "3h 05m", "2d 4h", "45s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** 950 → "950", 12_345 → "12.3k", 4_200_000 → "4.2M". */
export function formatCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

function pct(x: number): string {
  return `${Math.round(x)}%`;
}

function limitCells(r: SummaryRow): [string, string, string] {
  if (!r.limit) return ['-', '-', '-'];
  const unit = r.limit.unit === 'requests' ? 'req' : 'tok';
  return [
    `${formatCount(r.limit.limit)} ${unit}/${r.limit.window}`,
    pct(r.limit.usedPercent),
    formatCount(r.limit.remaining),
  ];
}

function reservedCell(r: SummaryRow): string {
  if (r.reserved.count === 0) return '-';
  const parts = [];
  if (r.reserved.requests > 0) parts.push(`${r.reserved.requests} req`);
  if (r.reserved.tokens > 0) parts.push(`${formatCount(r.reserved.tokens)} tok`);
  return `${r.reserved.count} (${parts.join(', ')})`;
}

const HEADERS = [
  'Account',
  'Model',
  'Requests',
  'Input',
  'Output',
  'Thinking',
  'Errors',
  'Limit',
  'Used',
  'Left',
  'Provider',
  'Alerts',
  'Reserved',
] as const;
/** Columns aligned right (numbers). */
const RIGHT = new Set([2, 3, 4, 5, 6, 8, 9, 10]);

/** Renders the summary as a header line and an aligned table (plain text, no colours). */
export function formatSummaryTable(s: DailySummary): string {
  const resetIn = formatDuration(s.resetTime - s.generatedAt);
  const head = `Usage on ${s.day} (${s.timeZone}) — daily window resets ${formatLocal(s.resetTime, s.timeZone)} (in ${resetIn})`;
  if (s.rows.length === 0) return `${head}\nNo usage recorded today.`;
  const rows: string[][] = s.rows.map((r) => [
    r.account,
    r.model,
    String(r.requests),
    formatCount(r.inputTokens),
    formatCount(r.outputTokens),
    formatCount(r.thinkingTokens),
    String(r.errors),
    ...limitCells(r),
    r.provider ? `${pct(r.provider.remainingFraction * 100)} left` : '-',
    r.alertsFired.length > 0 ? r.alertsFired.map((l) => (l >= 100 ? 'exhausted' : `${l}%`)).join(',') : '-',
    reservedCell(r),
  ]);
  rows.push([
    'Total',
    '',
    String(s.totals.requests),
    formatCount(s.totals.inputTokens),
    formatCount(s.totals.outputTokens),
    formatCount(s.totals.thinkingTokens),
    String(s.totals.errors),
    '',
    '',
    '',
    '',
    String(s.totals.alertsFired || '-'),
    s.totals.reservations.count > 0 ? String(s.totals.reservations.count) : '-',
  ]);
  const all = [[...HEADERS], ...rows];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (RIGHT.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = all.map(line);
  return [head, body[0], rule, ...body.slice(1, -1), rule, body[body.length - 1]].join('\n');
}

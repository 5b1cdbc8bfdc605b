/**
 * Calendar-day boundaries in an IANA time zone, computed with `Intl.DateTimeFormat` only (no
 * time-zone database of our own). A day starts at the first instant whose local date is that day:
 * local midnight, or the first instant after it when a DST jump skips midnight. Days are 23, 24 or
 * 25 hours long around DST changes; every function here handles that by searching for the boundary
 * instead of adding 24 hours.
 */

const HOUR = 3_600_000;

export interface DayWindow {
  /** Local date of the day, `YYYY-MM-DD`. */
  key: string;
  /** First instant of the day (epoch ms). */
  start: number;
  /** First instant of the next day: when the daily window resets (epoch ms). */
  end: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is a zone name this runtime knows (e.g. "UTC", "Europe/Paris"). */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length === 0) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Local date of the instant `t` in `timeZone`, as `YYYY-MM-DD` (sorts like the dates it names). */
export function localDateKey(t: number, timeZone: string): string {
  let y = '';
  let m = '';
  let d = '';
  for (const part of formatter(timeZone).formatToParts(t)) {
    if (part.type === 'year') y = part.value;
    else if (part.type === 'month') m = part.value;
    else if (part.type === 'day') d = part.value;
  }
  return `${y.padStart(4, '0')}-${m}-${d}`;
}

function keyToUtcMidnight(key: string): number {
  const [y, m, d] = key.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

function addDays(key: string, days: number): string {
  const t = keyToUtcMidnight(key) + days * 24 * HOUR;
  return new Date(t).toISOString().slice(0, 10);
}

/** First instant (epoch ms) whose local date in `timeZone` is `key` or later. */
function firstInstantOf(key: string, timeZone: string): number {
  // Every zone's offset lies within [-12 h, +14 h]: local midnight is within this bracket.
  const utcMidnight = keyToUtcMidnight(key);
  let lo = utcMidnight - 15 * HOUR; // local date is before `key` here
  let hi = utcMidnight + 13 * HOUR; // local date is `key` or later here
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localDateKey(mid, timeZone) >= key) hi = mid;
    else lo = mid;
  }
  return hi;
}

const dayCache = new Map<string, DayWindow>();

/** The local calendar day in `timeZone` that contains the instant `t`. */
export function dayWindow(t: number, timeZone: string): DayWindow {
  const key = localDateKey(t, timeZone);
  const cacheKey = `${timeZone}\u0000${key}`;
  let w = dayCache.get(cacheKey);
  if (!w) {
    w = { key, start: firstInstantOf(key, timeZone), end: firstInstantOf(addDays(key, 1), timeZone) };
    if (dayCache.size > 4_096) dayCache.clear();
    dayCache.set(cacheKey, w);
  }
  return w;
}

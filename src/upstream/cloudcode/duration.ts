/**
 * Parsers for the ways Cloud Code says "when": Go / protobuf durations (`2h1m1s`, `510.79ms`,
 * `539420.18s`), RFC 3339 timestamps, the `Retry-After` header and "resets in …" phrases in
 * messages. Every parser returns `undefined` for input it does not understand and never throws.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|h|m|s|d)/gy;
const MAX_INPUT = 200;

/**
 * Parses a duration such as `2h1m1s`, `510.79ms`, `539420.18s`, `1.5s`, `0.5h` or `149h50m20.18s`
 * into milliseconds (possibly fractional). Whitespace between parts is allowed. Returns `undefined`
 * for anything else, including negative and empty durations.
 */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== 'string' || text.length > MAX_INPUT) return undefined;
  const s = text.trim().replace(/\s+/g, '');
  if (s.length === 0) return undefined;
  let total = 0;
  let pos = 0;
  DURATION_PART.lastIndex = 0;
  while (pos < s.length) {
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    const value = Number(m[1]);
    const unit = UNIT_MS[m[2] as string];
    if (!Number.isFinite(value) || unit === undefined) return undefined;
    total += value * unit;
    pos = DURATION_PART.lastIndex;
  }
  return Number.isFinite(total) ? total : undefined;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp (`2026-08-08T17:54:07Z`, with optional fraction and offset) to epoch ms. */
export function parseTimestamp(text: string): number | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const s = text.trim();
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return undefined;
  }
  // Date.parse handles at most millisecond precision: trim longer fractions.
  const normalized = s.replace(/(\.\d{3})\d+/, '$1').replace(' ', 'T');
  const ms = Date.parse(normalized);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses a `Retry-After` header: delta seconds (`120`, also `1.5`) or an HTTP date, relative to
 * `now` (epoch ms). Returns the delay in milliseconds, never negative.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (typeof value !== 'string' || value.length > 100) return undefined;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1_000;
  // HTTP dates always name the weekday or month in letters; refuse bare numbers and junk.
  if (!/^[A-Za-z]{3},?\s/.test(s)) return undefined;
  const at = Date.parse(s);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now);
}

const WORD_UNITS: ReadonlyArray<[RegExp, string]> = [
  [/^(?:milliseconds?|msecs?|ms)$/i, 'ms'],
  [/^(?:hours?|hrs?|h)$/i, 'h'],
  [/^(?:minutes?|mins?|m)$/i, 'm'],
  [/^(?:seconds?|secs?|s)$/i, 's'],
  [/^(?:days?|d)$/i, 'd'],
];

const PHRASE = /\bresets?\s+(?:in|after)\s*:?\s*((?:\d+(?:\.\d+)?\s*[a-zµ]+[\s,]*(?:and\s+)?)+)/i;
const PHRASE_PART = /(\d+(?:\.\d+)?)\s*([a-zµ]+)/gi;

/**
 * Finds a "resets in 149h50m20s" / "reset after 30 seconds" / "resets in 2 hours, 5 minutes"
 * phrase in a message and returns its delay in milliseconds.
 */
export function parseResetPhrase(message: string | undefined): number | undefined {
  if (typeof message !== 'string') return undefined;
  const m = PHRASE.exec(message.slice(0, 2_000));
  if (!m) return undefined;
  let total = 0;
  let found = false;
  for (const part of (m[1] as string).matchAll(PHRASE_PART)) {
    const value = Number(part[1]);
    const word = part[2] as string;
    // A compact group like "149h50m20s" arrives as one number plus "h50m20s": parse the rest as a duration.
    const compact = parseDuration(`${part[1]}${word}`);
    if (compact !== undefined) {
      total += compact;
      found = true;
      continue;
    }
    const unit = WORD_UNITS.find(([re]) => re.test(word))?.[1];
    if (unit === undefined) break;
    total += value * (UNIT_MS[unit] as number);
    found = true;
  }
  return found && Number.isFinite(total) ? total : undefined;
}

/** Formats milliseconds as a short human duration: `149h 50m`, `5m 3s`, `1.5s`, `250ms`. */
export function formatDelay(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'an unknown time';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const totalSeconds = Math.round(ms / 1_000);
  const h = Math.floor(totalSeconds / 3_600);
  const m = Math.floor((totalSeconds % 3_600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return s > 0 ? `${m}m ${s}s` : `${m}m`;
}

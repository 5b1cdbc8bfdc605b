/**
 * Duration and time formats used on the Cloud Code wire: Go-style durations in `quotaResetDelay`
 * ("149h50m20.18s", "510.79ms"), protobuf JSON durations in `RetryInfo.retryDelay` ("539420.18s"),
 * and RFC 3339 timestamps without fractions ("2026-08-08T17:54:07Z").
 */

function trimFixed(value: number, digits: number): string {
  return value.toFixed(digits).replace(/\.?0+$/, '');
}

/** Go `time.Duration` style, two decimals at most: "149h50m20.18s", "3m5s", "12.5s", "510.79ms". */
export function formatGoDuration(ms: number): string {
  const total = Math.max(0, ms);
  if (total === 0) return '0s';
  if (total < 1000) return `${trimFixed(total, 2)}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = (total % 60_000) / 1000;
  let out = '';
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${trimFixed(seconds, 2)}s`;
}

/** The same, with whole seconds, as the human message says it: "Resets in 149h50m20s." */
export function formatWholeDuration(ms: number): string {
  return formatGoDuration(Math.floor(Math.max(0, ms) / 1000) * 1000);
}

/** Protobuf JSON `Duration`: seconds with up to two decimals, e.g. "539420.18s". */
export function formatProtoDuration(ms: number): string {
  return `${trimFixed(Math.max(0, ms) / 1000, 2)}s`;
}

/** RFC 3339 in UTC without fractional seconds. */
export function formatTimestamp(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

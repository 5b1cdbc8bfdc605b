/** Alert identity and wording, shared by the ledger and the migrations. */
import type { AlertSource, LedgerAlert } from './schema';

/**
 * The id of an alert: one per account × model × source × window instance × level, so that a level
 * fires once per window and fires again only in the next window.
 */
export function alertId(
  account: string,
  model: string,
  source: AlertSource,
  window: LedgerAlert['window'],
  windowKey: number,
  level: number,
): string {
  return `${account}|${model}|${source}|${window}|${windowKey}|${level}`;
}

/** One line for the log or a notification. */
export function describeAlert(a: LedgerAlert): string {
  const what = a.exhausted ? 'exhausted' : `${a.level}% used`;
  const amount =
    a.unit === 'percent'
      ? `${Math.round(a.used)}% used, ${Math.round(a.remaining)}% left`
      : `${a.used} of ${a.limit ?? '?'} ${a.unit}, ${a.remaining} left`;
  const reset = a.resetTime === null ? 'reset time unknown' : `resets ${new Date(a.resetTime).toISOString()}`;
  const source = a.source === 'limit' ? 'your limit' : "the provider's quota";
  return `${a.account} · ${a.model}: ${what} of ${source} (${a.scope}; ${amount}; ${reset})`;
}

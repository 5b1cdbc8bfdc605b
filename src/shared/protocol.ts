/**
 * The dashboard's host <-> webview messages as a discriminated union, without dependencies: the
 * webview bundle imports this file (types and a structural guard for what the host posts); the
 * host validates what the webview sends with the zod schema in dashboardProtocol.ts. No message
 * ever carries a token or the local key — "copy key" asks the host to copy it.
 */
import type { DashboardModel } from './view/dashboardModel';

/** Commands without an argument. */
export const PLAIN_COMMANDS = [
  'refresh',
  'switchAccount',
  'copyProxyUrl',
  'copyKey',
  'startProxy',
  'stopProxy',
  'addDemoAccounts',
] as const;
/** Commands about one account (`accountId`). */
export const ACCOUNT_COMMANDS = ['pin', 'refreshAccount', 'openVerification', 'signInAgain'] as const;

export type PlainCommand = (typeof PLAIN_COMMANDS)[number];
export type AccountCommand = (typeof ACCOUNT_COMMANDS)[number];
export type DashboardCommand = PlainCommand | AccountCommand;

/** webview -> host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'command'; command: PlainCommand; accountId?: undefined }
  | { type: 'command'; command: AccountCommand; accountId: string };

/** Display settings for the webview (its local times use the user's zone and locale). */
export interface DashboardConfig {
  timeZone: string | null;
  locale: string | null;
}

export type HostMessage =
  { type: 'state'; model: DashboardModel } | { type: 'config'; config: DashboardConfig };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * The webview's check of what arrives on `window.message` (a cheap structural guard: the host is
 * trusted, but other frames can post too, and an old host may send an older shape).
 */
export function isHostMessage(raw: unknown): raw is HostMessage {
  if (!isRecord(raw)) return false;
  if (raw['type'] === 'config') {
    const c = raw['config'];
    return (
      isRecord(c) &&
      (c['timeZone'] === null || typeof c['timeZone'] === 'string') &&
      (c['locale'] === null || typeof c['locale'] === 'string')
    );
  }
  if (raw['type'] !== 'state' || !isRecord(raw['model'])) return false;
  const m = raw['model'];
  const chart = m['chart'];
  return (
    typeof m['generatedAt'] === 'number' &&
    Array.isArray(m['accounts']) &&
    isRecord(m['proxy']) &&
    Array.isArray(m['alerts']) &&
    isRecord(chart) &&
    Array.isArray(chart['times']) &&
    Array.isArray(chart['lines']) &&
    Array.isArray(chart['pools'])
  );
}

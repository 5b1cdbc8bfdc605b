/**
 * Messages between the dashboard webview and its host, as a discriminated union. The host
 * validates everything the webview sends (a webview is untrusted input); no message ever carries
 * a token or the local key — "copy key" asks the host to copy it.
 */
import { z } from 'zod';
import type { DashboardModel } from './view/dashboardModel';

export type HostMessage = { type: 'state'; model: DashboardModel };

const AccountCommand = z.enum(['pin', 'refreshAccount', 'openVerification', 'signInAgain']);
const PlainCommand = z.enum([
  'refresh',
  'switchAccount',
  'copyProxyUrl',
  'copyKey',
  'startProxy',
  'stopProxy',
  'addDemoAccounts',
]);

export const WebviewMessageSchema = z.union([
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('command'), command: PlainCommand }),
  z.strictObject({
    type: z.literal('command'),
    command: AccountCommand,
    accountId: z.string().min(1).max(200),
  }),
]);

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'command'; command: z.infer<typeof PlainCommand>; accountId?: undefined }
  | { type: 'command'; command: z.infer<typeof AccountCommand>; accountId: string };

/** The message, or undefined when it is not one the host accepts. */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  const r = WebviewMessageSchema.safeParse(raw);
  return r.success ? (r.data as WebviewMessage) : undefined;
}

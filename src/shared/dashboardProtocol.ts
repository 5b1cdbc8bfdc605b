/**
 * The host's check of what the dashboard webview sends (a webview is untrusted input): a zod
 * schema over the message union of protocol.ts, which the webview bundle imports without zod.
 */
import { z } from 'zod';
import type { WebviewMessage } from './protocol';
import { ACCOUNT_COMMANDS, PLAIN_COMMANDS } from './protocol';

export type {
  AccountCommand,
  DashboardCommand,
  DashboardConfig,
  HostMessage,
  PlainCommand,
  WebviewMessage,
} from './protocol';
export { isHostMessage } from './protocol';

const AccountCommandSchema = z.enum(ACCOUNT_COMMANDS);
const PlainCommandSchema = z.enum(PLAIN_COMMANDS);

export const WebviewMessageSchema = z.union([
  z.strictObject({ type: z.literal('ready') }),
  z.strictObject({ type: z.literal('command'), command: PlainCommandSchema }),
  z.strictObject({
    type: z.literal('command'),
    command: AccountCommandSchema,
    accountId: z.string().min(1).max(200),
  }),
]);

/** The message, or undefined when it is not one the host accepts. */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  const r = WebviewMessageSchema.safeParse(raw);
  return r.success ? (r.data as WebviewMessage) : undefined;
}

/**
 * What a route handler gets from the server. The translation seam between the HTTP layer and the
 * client formats is `ClientCodec` (translate/codec.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock';
import type { CallReporter, ProxyBackend } from '../backend';
import type { ErrorFormat } from '../clientErrors';
import type { SseWriter } from '../sse';

/** Fields of the one log line written per request; handlers fill in what they learn. */
export interface RequestLogFields {
  model?: string;
  accountLabel?: string;
  attempts: number;
  stream?: boolean;
  /** Set when the request ended in an error after the first byte, or the client left. */
  error?: string;
}

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  format: ErrorFormat;
  /** Aborts on client disconnect, deadline or server stop. */
  signal: AbortSignal;
  backend: ProxyBackend;
  reporter: CallReporter;
  clock: Clock;
  log: RequestLogFields;
  /** Reads the body (size-capped) and parses it as JSON; throws HttpError 400/413. */
  json(): Promise<unknown>;
  /** Sends a JSON answer with CORS headers. */
  sendJson(status: number, body: unknown, headers?: Record<string, string>): void;
  /** An SSE writer on this response (headers sent on first use). */
  sse(): SseWriter;
  /** Client model name → upstream model id; throws HttpError 404 (listing what is offered) when none fits. */
  mapModel(clientModel: string): string;
  /** Client names that resolve (beyond the catalog ids) and their upstream ids, for the model lists. */
  modelAliases(): Array<{ alias: string; model: string }>;
  /** Notes the moment the first byte went out (for the time-to-first-byte histogram). */
  markFirstByte(): void;
}

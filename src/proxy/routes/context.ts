/**
 * What a route handler gets from the server, and the codec seam between the HTTP layer and the
 * format translators: a `ClientCodec` parses one client format, turns it into a Gemini request, and
 * turns Gemini answers (whole or chunk by chunk) back into that format.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock';
import type { CallReporter, ClientFormat, GeminiRequest, GeminiResponse, ProxyBackend } from '../backend';
import type { ErrorFormat } from '../clientErrors';
import type { SseWriter } from '../sse';
import type { StreamTranslator } from '../translate/common';

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
  /** Client model name → upstream model id. */
  mapModel(clientModel: string): string;
  /** Notes the moment the first byte went out (for the time-to-first-byte histogram). */
  markFirstByte(): void;
}

/** One client format's request/response translation, as the routes need it. */
export interface ClientCodec<Req> {
  format: ClientFormat;
  /** Validates the body (zod) or throws an HttpError 400 that says which field is wrong. */
  parse(body: unknown): Req;
  /** The model the client asked for. */
  model(req: Req): string;
  stream(req: Req): boolean;
  /** A conversation key the client sent, if any (otherwise the server derives one). */
  sessionKey?(req: Req, headers: IncomingHttpHeaders): string | undefined;
  toGemini(req: Req): GeminiRequest;
  /** The non-streaming answer body. `model` is the name the client asked for. */
  fromGemini(res: GeminiResponse, model: string, req: Req): unknown;
  /** A fresh stream translator for one response (`model` is the name the client asked for). */
  encoder(model: string, req: Req): StreamTranslator;
}

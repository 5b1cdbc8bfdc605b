/**
 * The one seam between the HTTP layer and the format translators. A `ClientCodec` is everything the
 * server knows about one client API format: how to validate a body and turn it into a Gemini request,
 * how to answer (whole, streamed, or in error — HTTP body and SSE error frame), and optionally how to
 * count tokens and list models in that format. The routes and the server only speak this interface.
 *
 * Adding a format: write one translator file that exports a codec factory (see `openAiCodec` in
 * openai.ts), add its name to `ClientFormat` here and its factory to `createCodecs` (codecs.ts), and
 * add one route line in routes/index.ts.
 */
import type { GeminiRequest, GeminiResponse } from '../../upstream/gemini/schema';
import type { ModelInfo } from '../backend';
import {
  type ClientErrorInfo,
  type ClientEvent,
  type SignatureStore,
  type StreamTranslator,
  deriveSessionKey,
} from './common';

/** The API dialects clients speak; each has one codec. */
export type ClientFormat = 'openai' | 'anthropic' | 'gemini' | 'responses';

/** Request headers as node:http gives them. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** The header a client may send to name its conversation. */
export const SESSION_HEADER = 'x-session-id';

export function sessionHeader(headers: HeaderBag): string | undefined {
  const v = headers[SESSION_HEADER];
  const first = Array.isArray(v) ? v[0] : v;
  return first !== undefined && first.trim().length > 0 ? first.trim() : undefined;
}

/**
 * The conversation key: the `x-session-id` header when sent, else `fallback` (the key the translator
 * derived from the client's own id or the prompt with `deriveSessionKey`).
 */
export function sessionKeyWithHeader(fallback: string, headers: HeaderBag): string {
  const header = sessionHeader(headers);
  return header === undefined ? fallback : deriveSessionKey({ headerSessionId: header });
}

/** What a count-tokens route needs from a format. */
export interface CountTokensCodec {
  /**
   * Validates a count-tokens body; `pathModel` is the model named in the path (Gemini), if any.
   * Throws RequestValidationError (400) naming the bad field.
   */
  parse(body: unknown, pathModel: string | undefined): { model: string; request: GeminiRequest };
  /** The answer body for `totalTokens`. */
  answer(totalTokens: number): unknown;
}

/** What the models routes need from a format. */
export interface ModelsCodec {
  list(models: readonly ModelInfo[]): unknown;
  one(model: ModelInfo): unknown;
}

/** One client API format. `Req` is the translator's parsed request. */
export interface ClientCodec<Req = unknown> {
  readonly format: ClientFormat;
  /** Validates and translates the body; throws RequestValidationError (400) naming the bad field. */
  parse(body: unknown): Req;
  /** The model the client asked for ('' when the route takes it from the path). */
  model(req: Req): string;
  /** Whether the client asked for a stream (the route may decide instead). */
  stream(req: Req): boolean;
  /** The conversation key: x-session-id header, else the client's own id, else a hash of the prompt. */
  sessionKey(req: Req, headers: HeaderBag): string;
  toGemini(req: Req): GeminiRequest;
  /** The non-streamed answer body; `model` is the name the client asked for. */
  fromGemini(res: GeminiResponse, model: string, req: Req): unknown;
  /** A fresh stream translator for one response (its `error` uses `errorEvents`). */
  encoder(model: string, req: Req): StreamTranslator;
  /** The HTTP error body in this format (status, message, optional field at fault). */
  errorBody(err: ClientErrorInfo): unknown;
  /** The SSE frames that end an already started stream in error, in this format. */
  errorEvents(err: ClientErrorInfo): ClientEvent[];
  /** Count tokens in this format, when the format has such a route. */
  readonly countTokens?: CountTokensCodec;
  /** Model lists in this format, when the format has its own shape. */
  readonly models?: ModelsCodec;
  /** Answers the format keeps for later reads (Responses: `GET`/`DELETE /v1/responses/{id}`). */
  readonly stored?: StoredAnswers;
}

/** Stored answers by id, for formats whose API can read them back. */
export interface StoredAnswers {
  get(id: string): unknown;
  delete(id: string): boolean;
}

/** What a codec factory gets from the server: the clock and the shared signature store. */
export interface CodecDeps {
  /** Wall-clock milliseconds (OpenAI's `created`). */
  now: () => number;
  /** One per server, so thought signatures of tool calls survive clients that cannot carry them. */
  signatures: SignatureStore;
  /** Debug log lines (what a translator dropped or approximated); absent: not logged. */
  debug?: ((line: string) => void) | undefined;
}

/** The codecs of one server, one per format; a missing format makes its routes answer 501. */
export type Codecs = Partial<Record<ClientFormat, ClientCodec>>;

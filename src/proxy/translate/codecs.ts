/**
 * The three translators packaged for the HTTP routes: one codec per client format with parse →
 * model / stream / sessionKey / toGemini, and fromGemini / encoder for the answer. The shape matches
 * the routes' ClientCodec seam structurally, so the server can use these objects as they are.
 *
 * One SignatureStore is shared by the OpenAI and Anthropic codecs of a server, so thought signatures
 * of tool calls survive clients that cannot carry them.
 */
import type { GeminiRequest, GeminiResponse } from '../../upstream/gemini/schema';
import {
  AnthropicStreamTranslator,
  toAnthropicMessage,
  translateAnthropicCountTokens,
  translateAnthropicRequest,
} from './anthropic';
import {
  type SignatureStore,
  type StreamTranslator,
  type TranslatedRequest,
  deriveSessionKey,
  SignatureCache,
} from './common';
import { GeminiStreamTranslator, geminiSessionKey, parseGeminiRequest, toGeminiResponse } from './gemini';
import {
  type OpenAiTranslatedRequest,
  OpenAiStreamTranslator,
  toOpenAiCompletion,
  translateOpenAiRequest,
} from './openai';

/** Request headers as node:http gives them. */
export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

/** The header a client may send to name its conversation. */
export const SESSION_HEADER = 'x-session-id';

export function sessionHeader(headers: HeaderBag): string | undefined {
  const v = headers[SESSION_HEADER];
  const first = Array.isArray(v) ? v[0] : v;
  return first !== undefined && first.trim().length > 0 ? first.trim() : undefined;
}

export interface TranslationCodec<Req> {
  format: 'openai' | 'anthropic' | 'gemini';
  /** Validates and translates the body; throws RequestValidationError (400) naming the bad field. */
  parse(body: unknown): Req;
  model(req: Req): string;
  stream(req: Req): boolean;
  /** The conversation key: x-session-id header, else the client's id, else a hash of the prompt. */
  sessionKey(req: Req, headers: HeaderBag): string;
  toGemini(req: Req): GeminiRequest;
  /** The non-streamed answer body; `model` is the name the client asked for. */
  fromGemini(res: GeminiResponse, model: string, req: Req): unknown;
  /** A fresh stream translator for one response. */
  encoder(model: string, req: Req): StreamTranslator;
}

export interface CodecOptions {
  /** Wall-clock milliseconds, for OpenAI's `created` (inject the server's clock). */
  now: () => number;
  /** Shared thought-signature store; a bounded LRU is created when absent. */
  signatures?: SignatureStore;
}

export interface Codecs {
  openai: TranslationCodec<OpenAiTranslatedRequest>;
  anthropic: TranslationCodec<TranslatedRequest> & {
    /** A count_tokens body (no max_tokens) → the model and the Gemini request to count. */
    countTokens(body: unknown): { model: string; request: GeminiRequest };
  };
  gemini: TranslationCodec<GeminiRequest>;
  signatures: SignatureStore;
}

function keyWithHeader(fallback: string, headers: HeaderBag): string {
  const header = sessionHeader(headers);
  return header === undefined ? fallback : deriveSessionKey({ headerSessionId: header });
}

export function createCodecs(opts: CodecOptions): Codecs {
  const signatures = opts.signatures ?? new SignatureCache();
  const created = (): number => Math.floor(opts.now() / 1000);
  return {
    signatures,
    openai: {
      format: 'openai',
      parse: (body) => translateOpenAiRequest(body, { signatures }),
      model: (t) => t.model,
      stream: (t) => t.stream,
      sessionKey: (t, headers) => keyWithHeader(t.sessionKey, headers),
      toGemini: (t) => t.request,
      fromGemini: (res, model) => toOpenAiCompletion(res, { model, created: created(), signatures }),
      encoder: (model, t) =>
        new OpenAiStreamTranslator({ model, created: created(), includeUsage: t.includeUsage, signatures }),
    },
    anthropic: {
      format: 'anthropic',
      parse: (body) => translateAnthropicRequest(body, { signatures }),
      model: (t) => t.model,
      stream: (t) => t.stream,
      sessionKey: (t, headers) => keyWithHeader(t.sessionKey, headers),
      toGemini: (t) => t.request,
      fromGemini: (res, model) => toAnthropicMessage(res, { model, signatures }),
      encoder: (model) => new AnthropicStreamTranslator({ model, signatures }),
      countTokens: (body) => translateAnthropicCountTokens(body, { signatures }),
    },
    gemini: {
      format: 'gemini',
      parse: (body) => parseGeminiRequest(body),
      // The Gemini routes take the model and the streaming choice from the path.
      model: () => '',
      stream: () => false,
      sessionKey: (req, headers) => geminiSessionKey(req, sessionHeader(headers)),
      toGemini: (req) => req,
      fromGemini: (res, model) => toGeminiResponse(res, model),
      encoder: (model) => new GeminiStreamTranslator({ model }),
    },
  };
}

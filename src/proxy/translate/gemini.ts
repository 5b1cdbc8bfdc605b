/**
 * The Gemini client format itself (`generateContent`, `streamGenerateContent?alt=sse`,
 * `countTokens`, models list): validated pass-through, with the model taken from the path, and
 * answers shaped as Google's public Gemini API returns them (never wrapped in `.response`).
 */
import {
  type GeminiContent,
  type GeminiCountTokensResponse,
  GeminiCountTokensRequestSchema,
  type GeminiModelInfo,
  type GeminiModelsList,
  type GeminiRequest,
  GeminiRequestSchema,
  type GeminiResponse,
} from '../../upstream/gemini/schema';
import { formatGoDuration, formatProtoDuration, formatTimestamp } from '../../simulator/durations';
import { ERROR_DOMAIN, ERROR_INFO, RETRY_INFO } from '../../simulator/googleErrors';
import {
  type ClientErrorInfo,
  type ClientEvent,
  type NormalizedUsage,
  type QuotaErrorInfo,
  type StreamTranslator,
  deriveSessionKey,
  normalizeUsage,
  parseBody,
  RequestValidationError,
} from './common';
import { type ClientCodec, sessionKeyWithHeader } from './codec';
import type { ModelInfo } from '../backend';
import { normalizeGeminiRequestSchemas } from './schema';

function firstUserText(contents: readonly GeminiContent[]): string | undefined {
  const first = contents.find((c) => c.role === undefined || c.role === 'user');
  return first?.parts.map((p) => (p.thought === true ? '' : (p.text ?? ''))).join('');
}

function systemText(req: GeminiRequest): string {
  return (req.systemInstruction?.parts ?? []).map((p) => p.text ?? '').join('');
}

/** The session key of a Gemini-format request: its own sessionId, else the prompt. */
export function geminiSessionKey(request: GeminiRequest): string {
  return deriveSessionKey({
    clientId: request.sessionId,
    system: systemText(request),
    firstUserText: firstUserText(request.contents),
  });
}

/** Validates a generateContent / streamGenerateContent body (the model and method come from the path). */
export function parseGeminiRequest(body: unknown): GeminiRequest {
  const request = parseBody(GeminiRequestSchema, body, 'generateContent request');
  if (request.contents.length === 0) {
    throw new RequestValidationError('contents: must hold at least one turn; add a user turn.', 'contents');
  }
  return normalizeGeminiRequestSchemas(request);
}

/**
 * Validates a countTokens body (`contents`, or a whole `generateContentRequest`) and returns the
 * Gemini request whose tokens to count.
 */
export function translateGeminiCountTokens(
  body: unknown,
  model: string,
): { model: string; request: GeminiRequest } {
  const req = parseBody(GeminiCountTokensRequestSchema, body, 'countTokens request');
  if (req.generateContentRequest) {
    const { model: _inner, ...request } = req.generateContentRequest;
    return { model, request };
  }
  if (req.contents && req.contents.length > 0) return { model, request: { contents: req.contents } };
  throw new RequestValidationError(
    'contents: send either contents or generateContentRequest with at least one turn.',
    'contents',
  );
}

export function toGeminiCountTokens(resp: { totalTokens: number }): GeminiCountTokensResponse {
  return { totalTokens: resp.totalTokens };
}

/** Removes the Cloud Code envelope (`{response, traceId}`) if one is still there. */
export function unwrapGeminiResponse(resp: GeminiResponse): GeminiResponse {
  const inner = (resp as Record<string, unknown>).response;
  if (resp.candidates === undefined && typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
    return inner as GeminiResponse;
  }
  return resp;
}

/** The non-streamed answer, as the public API returns it. */
export function toGeminiResponse(resp: GeminiResponse, model?: string): GeminiResponse {
  const out = unwrapGeminiResponse(resp);
  return model !== undefined && out.modelVersion === undefined ? { ...out, modelVersion: model } : out;
}

/** Gemini chunks → `data:` frames of the same chunks (alt=sse); nothing closes the stream but its end. */
export class GeminiStreamTranslator implements StreamTranslator {
  private finished = false;
  private lastUsage: NormalizedUsage | undefined;

  constructor(private readonly opts: { model?: string } = {}) {}

  get usage(): NormalizedUsage | undefined {
    return this.lastUsage;
  }

  push(chunk: GeminiResponse): ClientEvent[] {
    if (this.finished) return [];
    const out = toGeminiResponse(chunk, this.opts.model);
    if (out.usageMetadata) this.lastUsage = normalizeUsage(out.usageMetadata);
    return [{ data: JSON.stringify(out) }];
  }

  end(): ClientEvent[] {
    this.finished = true;
    return [];
  }

  error(err: ClientErrorInfo): ClientEvent[] {
    if (this.finished) return [];
    this.finished = true;
    return geminiErrorEvents(err);
  }
}

const GOOGLE_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'UNIMPLEMENTED',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface GeminiErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

/**
 * `google.rpc.ErrorInfo` and `RetryInfo` as Cloud Code sends them with a 429, which Gemini CLI reads:
 * `RATE_LIMIT_EXCEEDED` with a `retryDelay` up to 5 minutes is retried after that delay;
 * `QUOTA_EXHAUSTED` (or a longer delay) ends the run with the message.
 */
function quotaDetails(q: QuotaErrorInfo): unknown[] {
  const metadata: Record<string, string> = {};
  if (q.model !== undefined) metadata.model = q.model;
  if (q.retryAfterMs !== undefined) metadata.quotaResetDelay = formatGoDuration(q.retryAfterMs);
  if (q.resetAt !== undefined) metadata.quotaResetTimeStamp = formatTimestamp(q.resetAt);
  const details: unknown[] = [{ '@type': ERROR_INFO, reason: q.reason, domain: ERROR_DOMAIN, metadata }];
  if (q.retryAfterMs !== undefined) {
    details.push({ '@type': RETRY_INFO, retryDelay: formatProtoDuration(q.retryAfterMs) });
  }
  return details;
}

/** `{error: {code, message, status, details?}}` as Google APIs answer errors (also the admin API's shape). */
export function geminiErrorBody(err: ClientErrorInfo): GeminiErrorBody {
  return {
    error: {
      code: err.status,
      message: err.message,
      status: GOOGLE_STATUS[err.status] ?? (err.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
      ...(err.quota ? { details: quotaDetails(err.quota) } : {}),
    },
  };
}

/** A stream ended in error: a `data:` chunk carrying `error`. */
export function geminiErrorEvents(err: ClientErrorInfo): ClientEvent[] {
  return [{ data: JSON.stringify(geminiErrorBody(err)) }];
}

/** One model in the public API's shape. */
export function geminiModel(m: ModelInfo): GeminiModelInfo {
  return {
    name: `models/${m.id}`,
    baseModelId: m.id,
    version: '1',
    displayName: m.displayName,
    ...(m.maxTokens === undefined ? {} : { inputTokenLimit: m.maxTokens }),
    ...(m.maxOutputTokens === undefined ? {} : { outputTokenLimit: m.maxOutputTokens }),
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

/** `GET /v1beta/models` in the public API's shape. */
export function geminiModelsList(models: readonly ModelInfo[]): GeminiModelsList {
  return { models: models.map(geminiModel) };
}

/**
 * The Gemini format for the routes: the body is already a Gemini request; the model and the
 * streaming choice come from the path.
 */
export function geminiCodec(): ClientCodec<GeminiRequest> {
  return {
    format: 'gemini',
    parse: (body) => parseGeminiRequest(body),
    model: () => '',
    stream: () => false,
    sessionKey: (req, headers) => sessionKeyWithHeader(geminiSessionKey(req), headers),
    toGemini: (req) => req,
    fromGemini: (res, model) => toGeminiResponse(res, model),
    encoder: (model) => new GeminiStreamTranslator({ model }),
    errorBody: geminiErrorBody,
    errorEvents: geminiErrorEvents,
    countTokens: {
      parse: (body, pathModel) => translateGeminiCountTokens(body, pathModel ?? ''),
      answer: (totalTokens) => toGeminiCountTokens({ totalTokens }),
    },
    models: { list: geminiModelsList, one: geminiModel },
  };
}

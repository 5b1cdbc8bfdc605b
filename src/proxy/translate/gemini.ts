/**
 * The Gemini client format itself (v1beta `generateContent`, `streamGenerateContent?alt=sse`,
 * `countTokens`, models list): validated pass-through, with the model taken from the path, and
 * answers shaped as Google's public Gemini API returns them (never wrapped in `.response`).
 */
import {
  type GeminiContent,
  type GeminiCountTokensResponse,
  GeminiCountTokensRequestSchema,
  type GeminiModelsList,
  type GeminiRequest,
  GeminiRequestSchema,
  type GeminiResponse,
} from '../../upstream/gemini/schema';
import {
  type ClientErrorInfo,
  type ClientEvent,
  type NormalizedUsage,
  type StreamTranslator,
  deriveSessionKey,
  normalizeUsage,
  parseBody,
  RequestValidationError,
  type ListedModel,
  type TranslateOptions,
  type TranslatedRequest,
} from './common';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'countTokens';

const METHODS: ReadonlySet<string> = new Set(['generateContent', 'streamGenerateContent', 'countTokens']);

/**
 * Reads the model and method from a path like `/v1beta/models/gemini-3-pro-high:streamGenerateContent`
 * (query string allowed; `v1` and `v1alpha` accepted too). Throws a RequestValidationError (field
 * `path`) when the path is not a model method call.
 */
export function parseGeminiPath(path: string): { model: string; method: GeminiMethod } {
  const bare = path.split('?')[0] ?? '';
  const m = /^\/(?:v1|v1beta|v1alpha)\/models\/([^/:]+):([A-Za-z]+)$/.exec(bare);
  if (!m || !METHODS.has(m[2] as string)) {
    throw new RequestValidationError(
      `path: "${bare}" is not a Gemini model method; use /v1beta/models/<model>:generateContent, ` +
        ':streamGenerateContent?alt=sse or :countTokens.',
      'path',
    );
  }
  let model: string;
  try {
    model = decodeURIComponent(m[1] as string);
  } catch {
    throw new RequestValidationError(`path: the model name "${m[1]}" is not valid URL encoding.`, 'path');
  }
  return { model, method: m[2] as GeminiMethod };
}

function firstUserText(contents: readonly GeminiContent[]): string | undefined {
  const first = contents.find((c) => c.role === undefined || c.role === 'user');
  return first?.parts.map((p) => (p.thought === true ? '' : (p.text ?? ''))).join('');
}

function systemText(req: GeminiRequest): string {
  return (req.systemInstruction?.parts ?? []).map((p) => p.text ?? '').join('');
}

/** The session key of a Gemini-format request: header, then its own sessionId, then the prompt. */
export function geminiSessionKey(request: GeminiRequest, headerSessionId?: string): string {
  return deriveSessionKey({
    headerSessionId,
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
  return request;
}

/**
 * Validates a generateContent / streamGenerateContent body; the model comes from the path (see
 * parseGeminiPath) and `stream` from the method.
 */
export function translateGeminiRequest(
  body: unknown,
  model: string,
  stream: boolean,
  opts: TranslateOptions = {},
): TranslatedRequest {
  const request = parseGeminiRequest(body);
  return { model, request, stream, sessionKey: geminiSessionKey(request, opts.headerSessionId) };
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
    return [{ data: JSON.stringify(geminiErrorBody(err)) }];
  }
}

const GOOGLE_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface GeminiErrorBody {
  error: { code: number; message: string; status: string };
}

/** `{error: {code, message, status}}` as Google APIs answer errors. */
export function geminiErrorBody(err: ClientErrorInfo): GeminiErrorBody {
  return {
    error: {
      code: err.status,
      message: err.message,
      status: GOOGLE_STATUS[err.status] ?? (err.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
    },
  };
}

/** `GET /v1beta/models` in the public API's shape. */
export function geminiModelsList(models: readonly ListedModel[]): GeminiModelsList {
  return {
    models: models.map((m) => ({
      name: `models/${m.id}`,
      baseModelId: m.id,
      version: '001',
      displayName: m.displayName,
      ...(m.maxTokens === undefined ? {} : { inputTokenLimit: m.maxTokens }),
      ...(m.maxOutputTokens === undefined ? {} : { outputTokenLimit: m.maxOutputTokens }),
      supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
    })),
  };
}

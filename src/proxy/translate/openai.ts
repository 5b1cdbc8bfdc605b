/**
 * OpenAI Chat Completions ⇄ Gemini: the request schema and its translation, the chat.completion
 * answer, the chat.completion.chunk stream, the models list and the error body.
 */
import { z } from 'zod';
import type {
  GeminiContent,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
  GeminiResponse,
  GeminiToolConfig,
} from '../../upstream/gemini/schema';
import {
  type ClientErrorInfo,
  type ClientEvent,
  type NormalizedUsage,
  type SignatureStore,
  type StopKind,
  type StreamTranslator,
  checkJsonDepth,
  deriveSessionKey,
  firstCandidateParts,
  normalizeUsage,
  parseBody,
  RequestValidationError,
  type TranslatedRequest,
  type TranslateOptions,
  MODEL_CREATED_S,
  toolResultObject,
  responseKeyOf,
  stableToolCallId,
  stopKindOf,
} from './common';
import { type ClientCodec, type CodecDeps, sessionKeyWithHeader } from './codec';
import type { ModelInfo } from '../backend';
import { toUpstreamParameters, toUpstreamResponseSchema } from './schema';

// ---------------------------------------------------------------------------------------------
// Request schema

const TextPartSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
const ImagePartSchema = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.string().optional() }),
});
const RefusalPartSchema = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

const TextContentSchema = z.union([z.string(), z.array(TextPartSchema)]);

const ToolCallSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function').optional(),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

export const OpenAiMessageSchema = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content: TextContentSchema, name: z.string().optional() }),
  z.looseObject({ role: z.literal('developer'), content: TextContentSchema, name: z.string().optional() }),
  z.looseObject({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPartSchema, ImagePartSchema]))]),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(z.union([TextPartSchema, RefusalPartSchema]))]).nullish(),
    tool_calls: z.array(ToolCallSchema).optional(),
    reasoning_content: z.string().nullish(),
    name: z.string().optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content: TextContentSchema, tool_call_id: z.string().min(1) }),
]);
export type OpenAiMessage = z.infer<typeof OpenAiMessageSchema>;

const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

export const OpenAiChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(OpenAiMessageSchema).min(1),
  tools: z
    .array(
      z.looseObject({
        type: z.literal('function'),
        function: z.looseObject({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    )
    .optional(),
  tool_choice: ToolChoiceSchema.optional(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
  user: z.string().optional(),
  n: z
    .literal(1, { error: 'only n = 1 is supported (one choice per request); drop n or set it to 1' })
    .nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('json_object') }),
      z.looseObject({
        type: z.literal('json_schema'),
        json_schema: z.looseObject({
          name: z.string(),
          schema: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    ])
    .optional(),
});
export type OpenAiChatRequest = z.infer<typeof OpenAiChatRequestSchema>;

/** Thinking budgets (tokens) for `reasoning_effort`; "none" turns thinking off. */
export const REASONING_BUDGETS: Readonly<Record<string, number>> = {
  none: 0,
  minimal: 512,
  low: 2048,
  medium: 8192,
  high: 24_576,
  xhigh: 32_768,
};

export interface OpenAiTranslatedRequest extends TranslatedRequest {
  /** stream_options.include_usage: send a usage chunk before [DONE]. */
  includeUsage: boolean;
}

function textOf(content: string | ReadonlyArray<{ type: string; text?: string }>): string {
  if (typeof content === 'string') return content;
  return content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

export const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

export function imagePart(url: string, field: string): GeminiPart {
  const m = DATA_URL.exec(url);
  if (!m) {
    throw new RequestValidationError(
      `${field}: only base64 data: URLs are supported for images (the proxy does not fetch remote URLs); ` +
        'send the image as data:<mime>;base64,<bytes>.',
      field,
    );
  }
  return { inlineData: { mimeType: m[1] as string, data: m[2] as string } };
}

/** Appends `parts` as a turn of `role`, merging with the previous turn when it has the same role. */
export function appendTurn(contents: GeminiContent[], role: 'user' | 'model', parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

export function parseArguments(args: string, field: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new RequestValidationError(
      `${field}: the tool-call arguments are not valid JSON; send them as a JSON object string.`,
      field,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RequestValidationError(`${field}: the tool-call arguments must be a JSON object.`, field);
  }
  checkJsonDepth(parsed, field);
  return parsed as Record<string, unknown>;
}

/** Validates an OpenAI chat.completions body and translates it into a Gemini request. */
export function translateOpenAiRequest(body: unknown, opts: TranslateOptions = {}): OpenAiTranslatedRequest {
  const req = parseBody(OpenAiChatRequestSchema, body, 'chat.completions request');
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  let firstUserText: string | undefined;

  req.messages.forEach((msg, i) => {
    const at = `messages.${i}`;
    switch (msg.role) {
      case 'system':
      case 'developer':
        system.push(textOf(msg.content));
        break;
      case 'user': {
        const parts: GeminiPart[] =
          typeof msg.content === 'string'
            ? [{ text: msg.content }]
            : msg.content.map((p, j) =>
                p.type === 'text'
                  ? { text: p.text }
                  : imagePart(p.image_url.url, `${at}.content.${j}.image_url.url`),
              );
        firstUserText ??= textOf(msg.content);
        // Gemini rejects empty text parts.
        appendTurn(
          contents,
          'user',
          parts.filter((p) => p.text !== ''),
        );
        break;
      }
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text =
          msg.content == null
            ? ''
            : typeof msg.content === 'string'
              ? msg.content
              : msg.content.map((p) => (p.type === 'text' ? p.text : p.refusal)).join('');
        if (text.length > 0) parts.push({ text });
        (msg.tool_calls ?? []).forEach((call, j) => {
          toolNames.set(call.id, call.function.name);
          const part: GeminiPart = {
            functionCall: {
              name: call.function.name,
              args: parseArguments(call.function.arguments, `${at}.tool_calls.${j}.function.arguments`),
              id: call.id,
            },
          };
          const sig = opts.signatures?.get(call.id);
          if (sig !== undefined) part.thoughtSignature = sig;
          parts.push(part);
        });
        appendTurn(contents, 'model', parts);
        break;
      }
      case 'tool': {
        const name = toolNames.get(msg.tool_call_id);
        if (name === undefined) {
          throw new RequestValidationError(
            `${at}.tool_call_id: no earlier assistant message has a tool call with id "${msg.tool_call_id}"; ` +
              'send the assistant message with its tool_calls before the tool results.',
            `${at}.tool_call_id`,
          );
        }
        appendTurn(contents, 'user', [
          {
            functionResponse: { name, response: toolResultObject(textOf(msg.content)), id: msg.tool_call_id },
          },
        ]);
        break;
      }
    }
  });

  if (contents.length === 0) {
    throw new RequestValidationError(
      'messages: the conversation has no non-empty user or assistant message; add at least one user message with text.',
      'messages',
    );
  }

  const request: GeminiRequest = { contents };
  const systemText = system.join('\n\n');
  if (system.length > 0) request.systemInstruction = { parts: [{ text: systemText }] };

  if (req.tools && req.tools.length > 0) {
    request.tools = [
      {
        functionDeclarations: req.tools.map((t, i) => ({
          name: t.function.name,
          ...(t.function.description === undefined ? {} : { description: t.function.description }),
          parameters: toUpstreamParameters(t.function.parameters, `tools.${i}.function.parameters`),
        })),
      },
    ];
  }
  if (req.tool_choice !== undefined) request.toolConfig = toolConfigOf(req.tool_choice);

  const gen: GeminiGenerationConfig = {};
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens != null) gen.maxOutputTokens = maxTokens;
  if (req.temperature != null) gen.temperature = req.temperature;
  if (req.top_p != null) gen.topP = req.top_p;
  if (req.stop != null) gen.stopSequences = typeof req.stop === 'string' ? [req.stop] : req.stop;
  if (req.reasoning_effort != null) {
    const budget = REASONING_BUDGETS[req.reasoning_effort] ?? 8192;
    gen.thinkingConfig = { includeThoughts: budget > 0, thinkingBudget: budget };
  }
  if (req.response_format?.type === 'json_object') gen.responseMimeType = 'application/json';
  if (req.response_format?.type === 'json_schema') {
    gen.responseMimeType = 'application/json';
    if (req.response_format.json_schema.schema) {
      const schema = toUpstreamResponseSchema(
        req.response_format.json_schema.schema,
        'response_format.json_schema.schema',
      );
      if (schema !== undefined) gen.responseSchema = schema;
    }
  }
  if (Object.keys(gen).length > 0) request.generationConfig = gen;

  return {
    model: req.model,
    request,
    stream: req.stream === true,
    includeUsage: req.stream_options?.include_usage === true,
    sessionKey: deriveSessionKey({
      clientId: req.user,
      system: systemText,
      firstUserText,
    }),
  };
}

function toolConfigOf(choice: z.infer<typeof ToolChoiceSchema>): GeminiToolConfig {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

// ---------------------------------------------------------------------------------------------
// Responses

export type OpenAiFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export function openAiFinishReason(kind: StopKind): OpenAiFinishReason {
  switch (kind) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'safety':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export function openAiUsage(u: NormalizedUsage): OpenAiUsage {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.totalTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens },
  };
}

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAiCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: {
      role: 'assistant';
      content: string | null;
      reasoning_content?: string;
      tool_calls?: OpenAiToolCall[];
      refusal: null;
    };
    logprobs: null;
    finish_reason: OpenAiFinishReason;
  }>;
  usage: OpenAiUsage;
}

export interface OpenAiResponseOptions {
  /** Model name to report (as the client asked for it). */
  model: string;
  /** Unix seconds for `created`. */
  created: number;
  /** Completion id; derived from the Gemini responseId when absent. */
  id?: string;
  signatures?: SignatureStore | undefined;
}

function completionId(resp: GeminiResponse, id: string | undefined): string {
  return id ?? `chatcmpl-${responseKeyOf(resp)}`;
}

/** A Gemini generateContent answer → an OpenAI chat.completion. */
export function toOpenAiCompletion(resp: GeminiResponse, opts: OpenAiResponseOptions): OpenAiCompletion {
  const key = responseKeyOf(resp);
  let content = '';
  let reasoning = '';
  const toolCalls: OpenAiToolCall[] = [];
  for (const part of firstCandidateParts(resp)) {
    if (part.functionCall) {
      const id = stableToolCallId(
        'call_',
        part.functionCall.id,
        key,
        toolCalls.length,
        part.functionCall.name,
      );
      if (part.thoughtSignature !== undefined) opts.signatures?.set(id, part.thoughtSignature);
      toolCalls.push({
        id,
        type: 'function',
        function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
      });
    } else if (typeof part.text === 'string') {
      if (part.thought === true) reasoning += part.text;
      else content += part.text;
    }
  }
  const candidate = resp.candidates?.[0];
  const finish = openAiFinishReason(
    resp.promptFeedback?.blockReason !== undefined && !candidate
      ? 'safety'
      : stopKindOf(candidate?.finishReason, toolCalls.length > 0),
  );
  return {
    id: completionId(resp, opts.id),
    object: 'chat.completion',
    created: opts.created,
    model: opts.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: content.length > 0 || toolCalls.length === 0 ? content : null,
          ...(reasoning.length > 0 ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        logprobs: null,
        finish_reason: finish,
      },
    ],
    usage: openAiUsage(normalizeUsage(resp.usageMetadata)),
  };
}

export interface OpenAiStreamOptions extends OpenAiResponseOptions {
  /** stream_options.include_usage. */
  includeUsage: boolean;
}

/**
 * Gemini stream chunks → `chat.completion.chunk` frames: a role chunk first, then content,
 * reasoning_content and tool_call deltas (id, name and empty arguments, then the arguments), a final
 * chunk with finish_reason, a usage chunk when asked, then `[DONE]`.
 */
export class OpenAiStreamTranslator implements StreamTranslator {
  private started = false;
  private finished = false;
  private id: string | undefined;
  private toolIndex = 0;
  private finishReason: string | undefined;
  private blocked = false;
  private lastUsage: NormalizedUsage | undefined;
  private responseKey: string | undefined;

  constructor(private readonly opts: OpenAiStreamOptions) {
    this.id = opts.id;
  }

  get usage(): NormalizedUsage | undefined {
    return this.lastUsage;
  }

  private frame(delta: Record<string, unknown>, finish: OpenAiFinishReason | null = null): ClientEvent {
    return {
      data: JSON.stringify({
        id: this.id,
        object: 'chat.completion.chunk',
        created: this.opts.created,
        model: this.opts.model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      }),
    };
  }

  private start(resp: GeminiResponse | undefined): ClientEvent[] {
    if (this.started) return [];
    this.started = true;
    this.responseKey = resp ? responseKeyOf(resp) : (this.id ?? 'stream');
    this.id ??= resp ? completionId(resp, undefined) : 'chatcmpl-stream';
    return [this.frame({ role: 'assistant', content: '' })];
  }

  push(chunk: GeminiResponse): ClientEvent[] {
    if (this.finished) return [];
    const out = this.start(chunk);
    if (chunk.usageMetadata) this.lastUsage = normalizeUsage(chunk.usageMetadata);
    if (chunk.promptFeedback?.blockReason !== undefined) this.blocked = true;
    const candidate = chunk.candidates?.[0];
    if (candidate?.finishReason !== undefined) this.finishReason = candidate.finishReason;
    for (const part of candidate?.content?.parts ?? []) {
      if (part.functionCall) {
        const index = this.toolIndex++;
        const id = stableToolCallId(
          'call_',
          part.functionCall.id,
          this.responseKey ?? 'stream',
          index,
          part.functionCall.name,
        );
        if (part.thoughtSignature !== undefined) this.opts.signatures?.set(id, part.thoughtSignature);
        out.push(
          this.frame({
            tool_calls: [
              { index, id, type: 'function', function: { name: part.functionCall.name, arguments: '' } },
            ],
          }),
          this.frame({
            tool_calls: [{ index, function: { arguments: JSON.stringify(part.functionCall.args ?? {}) } }],
          }),
        );
      } else if (typeof part.text === 'string' && part.text.length > 0) {
        out.push(
          this.frame(part.thought === true ? { reasoning_content: part.text } : { content: part.text }),
        );
      }
    }
    return out;
  }

  end(): ClientEvent[] {
    if (this.finished) return [];
    const out = this.start(undefined);
    this.finished = true;
    const kind =
      this.blocked && this.finishReason === undefined
        ? 'safety'
        : stopKindOf(this.finishReason, this.toolIndex > 0);
    out.push(this.frame({}, openAiFinishReason(kind)));
    if (this.opts.includeUsage) {
      out.push({
        data: JSON.stringify({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.opts.created,
          model: this.opts.model,
          choices: [],
          usage: openAiUsage(this.lastUsage ?? normalizeUsage(undefined)),
        }),
      });
    }
    out.push({ data: '[DONE]' });
    return out;
  }

  error(err: ClientErrorInfo): ClientEvent[] {
    if (this.finished) return [];
    this.finished = true;
    return openAiErrorEvents(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Errors, models and the codec

const OPENAI_ERROR_TYPE: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  // No account has quota until a reset far away: OpenAI's own out-of-quota type (see quotaAnswer.ts).
  402: 'insufficient_quota',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  499: 'cancelled',
  504: 'timeout_error',
};

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/** `{error: {message, type, code, param}}` as the OpenAI API answers errors. */
export function openAiErrorBody(err: ClientErrorInfo): OpenAiErrorBody {
  return {
    error: {
      message: err.message,
      type: OPENAI_ERROR_TYPE[err.status] ?? (err.status >= 500 ? 'server_error' : 'invalid_request_error'),
      code: err.status === 429 ? 'rate_limit_exceeded' : err.status === 402 ? 'insufficient_quota' : null,
      param: err.param ?? null,
    },
  };
}

/** A stream ended in error: a `data:` chunk carrying `error` (what the OpenAI SDKs read). */
export function openAiErrorEvents(err: ClientErrorInfo): ClientEvent[] {
  return [{ data: JSON.stringify(openAiErrorBody(err)) }];
}

/** One model in OpenAI's shape. `created` is Unix seconds. */
export function openAiModel(m: ModelInfo, created = MODEL_CREATED_S) {
  return { id: m.id, object: 'model' as const, created, owned_by: m.provider };
}

/** `GET /v1/models` in OpenAI's shape. `created` is Unix seconds. */
export function openAiModelsList(models: readonly ModelInfo[], created = MODEL_CREATED_S) {
  return { object: 'list' as const, data: models.map((m) => openAiModel(m, created)) };
}

/** The OpenAI Chat Completions format for the routes. */
export function openAiCodec(deps: CodecDeps): ClientCodec<OpenAiTranslatedRequest> {
  const { signatures } = deps;
  const created = (): number => Math.floor(deps.now() / 1000);
  return {
    format: 'openai',
    parse: (body) => translateOpenAiRequest(body, { signatures }),
    model: (t) => t.model,
    stream: (t) => t.stream,
    sessionKey: (t, headers) => sessionKeyWithHeader(t.sessionKey, headers),
    toGemini: (t) => t.request,
    fromGemini: (res, model) => toOpenAiCompletion(res, { model, created: created(), signatures }),
    encoder: (model, t) =>
      new OpenAiStreamTranslator({ model, created: created(), includeUsage: t.includeUsage, signatures }),
    errorBody: openAiErrorBody,
    errorEvents: openAiErrorEvents,
    models: { list: (models) => openAiModelsList(models), one: (m) => openAiModel(m) },
  };
}

/**
 * Anthropic Messages ⇄ Gemini: the request schema and its translation (thinking blocks with their
 * signatures, tool_use / tool_result paired by id), the message answer, the streaming event sequence,
 * count_tokens, the models list and the error shapes.
 *
 * Thought signatures: a thinking block's signature travels on the Gemini thought part it came from.
 * Gemini may instead sign a function call or a text part; such a signature becomes the signature of
 * the thinking block just before it (an empty thinking block when there is none, or when that block
 * is already signed), and is also kept per tool-use id in the SignatureStore so that it returns on
 * the function call on the next turn.
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
  cleanJsonSchema,
  deriveSessionKey,
  normalizeUsage,
  parseBody,
  RequestValidationError,
  responseKeyOf,
  stableToolCallId,
  stopKindOf,
  MODEL_CREATED_ISO,
  type TranslateOptions,
  type TranslatedRequest,
  toolResultObject,
} from './common';
import { type ClientCodec, type CodecDeps, sessionKeyWithHeader } from './codec';
import type { ModelInfo } from '../backend';

// ---------------------------------------------------------------------------------------------
// Request schema

const CacheControl = { cache_control: z.unknown().optional() };

const TextBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string(), ...CacheControl });
const ImageBlockSchema = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
  ]),
  ...CacheControl,
});
const DocumentBlockSchema = z.looseObject({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
    z.looseObject({ type: z.literal('text'), media_type: z.string().optional(), data: z.string() }),
    z.looseObject({ type: z.literal('url'), url: z.string() }),
  ]),
  ...CacheControl,
});
const ToolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  ...CacheControl,
});
const ToolResultBlockSchema = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema]))])
    .optional(),
  is_error: z.boolean().optional(),
  ...CacheControl,
});
const ThinkingBlockSchema = z.looseObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().optional(),
});
const RedactedThinkingBlockSchema = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

export const AnthropicContentBlockSchema = z.discriminatedUnion('type', [
  TextBlockSchema,
  ImageBlockSchema,
  DocumentBlockSchema,
  ToolUseBlockSchema,
  ToolResultBlockSchema,
  ThinkingBlockSchema,
  RedactedThinkingBlockSchema,
]);
export type AnthropicContentBlock = z.infer<typeof AnthropicContentBlockSchema>;

export const AnthropicMessageParamSchema = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(AnthropicContentBlockSchema)]),
});

const AnthropicToolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  /** Absent or "custom" for client tools; server tools (web_search_…) carry their own type. */
  type: z.string().optional(),
});

const AnthropicToolChoiceSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({
    type: z.literal('tool'),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({ type: z.literal('none') }),
]);

const SystemSchema = z.union([z.string(), z.array(TextBlockSchema)]);

const ThinkingParamSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('enabled'), budget_tokens: z.number().int().min(0) }),
  z.looseObject({ type: z.literal('disabled') }),
  z.looseObject({ type: z.literal('adaptive') }),
]);

const PromptFields = {
  model: z.string().min(1),
  system: SystemSchema.optional(),
  messages: z.array(AnthropicMessageParamSchema).min(1),
  tools: z.array(AnthropicToolSchema).optional(),
  tool_choice: AnthropicToolChoiceSchema.optional(),
  thinking: ThinkingParamSchema.optional(),
};

export const AnthropicMessagesRequestSchema = z.looseObject({
  ...PromptFields,
  max_tokens: z.number().int().positive(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().positive().optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequestSchema>;

export const AnthropicCountTokensRequestSchema = z.looseObject(PromptFields);
export type AnthropicCountTokensRequest = z.infer<typeof AnthropicCountTokensRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Request translation

function blockText(content: string | ReadonlyArray<{ type: string; text?: string }>): string {
  if (typeof content === 'string') return content;
  return content.map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : '')).join('');
}

function urlUnsupported(field: string): RequestValidationError {
  return new RequestValidationError(
    `${field}: URL sources are not supported (the proxy does not fetch remote files); send the data as a base64 source.`,
    field,
  );
}

interface PromptParts {
  system: string;
  contents: GeminiContent[];
  firstUserText: string | undefined;
  tools: GeminiRequest['tools'];
  toolConfig: GeminiToolConfig | undefined;
}

function translatePrompt(
  req: AnthropicCountTokensRequest,
  signatures: SignatureStore | undefined,
): PromptParts {
  const system = req.system === undefined ? '' : blockText(req.system);
  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  let firstUserText: string | undefined;

  req.messages.forEach((msg, i) => {
    const at = `messages.${i}.content`;
    const role = msg.role === 'assistant' ? 'model' : 'user';
    if (msg.role === 'user' && firstUserText === undefined) firstUserText = blockText(msg.content);
    const blocks: AnthropicContentBlock[] =
      typeof msg.content === 'string' ? [{ type: 'text', text: msg.content }] : msg.content;
    const parts: GeminiPart[] = [];
    // A signature of an empty thinking block belongs to the next part (see the file comment).
    let carried: string | undefined;
    const withCarried = (p: GeminiPart): GeminiPart => {
      if (carried !== undefined && p.thoughtSignature === undefined) p.thoughtSignature = carried;
      carried = undefined;
      return p;
    };
    blocks.forEach((b, j) => {
      const field = `${at}.${j}`;
      switch (b.type) {
        case 'text':
          if (b.text.length > 0) parts.push(withCarried({ text: b.text }));
          break;
        case 'image':
        case 'document':
          if (b.source.type === 'url') throw urlUnsupported(`${field}.source`);
          if (b.source.type === 'text') parts.push({ text: b.source.data });
          else parts.push({ inlineData: { mimeType: b.source.media_type, data: b.source.data } });
          break;
        case 'thinking':
          if (b.thinking.length === 0) {
            if (b.signature) carried = b.signature;
          } else {
            parts.push({
              text: b.thinking,
              thought: true,
              ...(b.signature ? { thoughtSignature: b.signature } : {}),
            });
          }
          break;
        case 'redacted_thinking':
          // Gemini has no encrypted-thinking part; the block is dropped.
          break;
        case 'tool_use': {
          if (msg.role !== 'assistant') {
            throw new RequestValidationError(
              `${field}: tool_use blocks belong in assistant messages; move it to the assistant turn.`,
              field,
            );
          }
          toolNames.set(b.id, b.name);
          const part: GeminiPart = { functionCall: { name: b.name, args: b.input, id: b.id } };
          const stored = signatures?.get(b.id);
          if (stored !== undefined) {
            part.thoughtSignature = stored;
            // Do not send the same signature twice: it belongs to the call, not the thought before it.
            for (const p of parts)
              if (p.thought === true && p.thoughtSignature === stored) delete p.thoughtSignature;
            if (carried === stored) carried = undefined;
          }
          parts.push(withCarried(part));
          break;
        }
        case 'tool_result': {
          const name = toolNames.get(b.tool_use_id);
          if (name === undefined) {
            throw new RequestValidationError(
              `${field}.tool_use_id: no earlier assistant message has a tool_use with id "${b.tool_use_id}"; ` +
                'every tool_result must answer a tool_use of the previous assistant turn.',
              `${field}.tool_use_id`,
            );
          }
          const content = b.content ?? '';
          parts.push({
            functionResponse: {
              name,
              response: toolResultObject(blockText(content), b.is_error === true),
              id: b.tool_use_id,
            },
          });
          if (typeof content !== 'string') {
            content.forEach((c, k) => {
              if (c.type !== 'image') return;
              if (c.source.type === 'url') throw urlUnsupported(`${field}.content.${k}.source`);
              parts.push({ inlineData: { mimeType: c.source.media_type, data: c.source.data } });
            });
          }
          break;
        }
      }
    });
    if (carried !== undefined) parts.push({ text: '', thought: true, thoughtSignature: carried });
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  });

  if (contents.length === 0) {
    throw new RequestValidationError(
      'messages: every message is empty; send at least one non-empty message.',
      'messages',
    );
  }

  const declared = (req.tools ?? []).filter((t) => t.type === undefined || t.type === 'custom');
  const tools: GeminiRequest['tools'] =
    declared.length > 0
      ? [
          {
            functionDeclarations: declared.map((t) => ({
              name: t.name,
              ...(t.description === undefined ? {} : { description: t.description }),
              parameters: cleanJsonSchema(t.input_schema ?? { type: 'object', properties: {} }),
            })),
          },
        ]
      : undefined;

  let toolConfig: GeminiToolConfig | undefined;
  switch (req.tool_choice?.type) {
    case 'auto':
      toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
      break;
    case 'any':
      toolConfig = { functionCallingConfig: { mode: 'ANY' } };
      break;
    case 'none':
      toolConfig = { functionCallingConfig: { mode: 'NONE' } };
      break;
    case 'tool':
      toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [req.tool_choice.name] } };
      break;
    default:
      break;
  }
  return { system, contents, firstUserText, tools, toolConfig };
}

function assembleRequest(p: PromptParts): GeminiRequest {
  const request: GeminiRequest = { contents: p.contents };
  if (p.system.length > 0) request.systemInstruction = { parts: [{ text: p.system }] };
  if (p.tools) request.tools = p.tools;
  if (p.toolConfig) request.toolConfig = p.toolConfig;
  return request;
}

/** Validates an Anthropic /v1/messages body and translates it into a Gemini request. */
export function translateAnthropicRequest(body: unknown, opts: TranslateOptions = {}): TranslatedRequest {
  const req = parseBody(AnthropicMessagesRequestSchema, body, 'messages request');
  const prompt = translatePrompt(req, opts.signatures);
  const request = assembleRequest(prompt);
  const gen: GeminiGenerationConfig = { maxOutputTokens: req.max_tokens };
  if (req.temperature !== undefined) gen.temperature = req.temperature;
  if (req.top_p !== undefined) gen.topP = req.top_p;
  if (req.top_k !== undefined) gen.topK = req.top_k;
  if (req.stop_sequences && req.stop_sequences.length > 0) gen.stopSequences = req.stop_sequences;
  if (req.thinking?.type === 'enabled') {
    // The budget must stay below max_tokens; clamp rather than fail (count_tokens bodies borrow
    // this path with a placeholder max_tokens).
    const budget = Math.min(req.thinking.budget_tokens, req.max_tokens - 1);
    if (budget > 0) gen.thinkingConfig = { includeThoughts: true, thinkingBudget: budget };
  } else if (req.thinking?.type === 'adaptive') {
    gen.thinkingConfig = { includeThoughts: true, thinkingBudget: -1 };
  }
  request.generationConfig = gen;
  return {
    model: req.model,
    request,
    stream: req.stream === true,
    sessionKey: deriveSessionKey({
      clientId: req.metadata?.user_id ?? undefined,
      system: prompt.system,
      firstUserText: prompt.firstUserText,
    }),
  };
}

/** Validates a /v1/messages/count_tokens body and translates it into the Gemini request to count. */
export function translateAnthropicCountTokens(
  body: unknown,
  opts: TranslateOptions = {},
): { model: string; request: GeminiRequest } {
  const req = parseBody(AnthropicCountTokensRequestSchema, body, 'count_tokens request');
  return { model: req.model, request: assembleRequest(translatePrompt(req, opts.signatures)) };
}

/** Gemini's countTokens answer → `{input_tokens}`. */
export function toAnthropicCountTokens(resp: { totalTokens: number }): { input_tokens: number } {
  return { input_tokens: resp.totalTokens };
}

// ---------------------------------------------------------------------------------------------
// Responses

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'refusal';

export function anthropicStopReason(kind: StopKind): AnthropicStopReason {
  switch (kind) {
    case 'max_tokens':
      return 'max_tokens';
    case 'tool_use':
      return 'tool_use';
    case 'safety':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export type AnthropicResponseBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export function anthropicUsage(u: NormalizedUsage): AnthropicUsage {
  return {
    input_tokens: u.inputTokens - u.cachedInputTokens,
    output_tokens: u.outputTokens,
    cache_read_input_tokens: u.cachedInputTokens,
    cache_creation_input_tokens: 0,
  };
}

export interface AnthropicResponseOptions {
  /** Model name to report (as the client asked for it). */
  model: string;
  /** Message id; derived from the Gemini responseId when absent. */
  id?: string;
  signatures?: SignatureStore | undefined;
}

/**
 * Gemini stream chunks → the Messages streaming events: message_start, ping, then per block
 * content_block_start / content_block_delta (text_delta, thinking_delta, signature_delta,
 * input_json_delta) / content_block_stop, then message_delta (stop_reason, usage) and message_stop.
 */
export class AnthropicStreamTranslator implements StreamTranslator {
  private started = false;
  private finished = false;
  private id: string | undefined;
  private responseKey = 'stream';
  private index = -1;
  private open: { type: 'text' | 'thinking'; signed: boolean } | undefined;
  private toolCount = 0;
  private finishReason: string | undefined;
  private blocked = false;
  private lastUsage: NormalizedUsage | undefined;

  constructor(private readonly opts: AnthropicResponseOptions) {
    this.id = opts.id;
  }

  get usage(): NormalizedUsage | undefined {
    return this.lastUsage;
  }

  private ev(type: string, payload: Record<string, unknown>): ClientEvent {
    return { event: type, data: JSON.stringify({ type, ...payload }) };
  }

  /** A keep-alive frame the server may send while waiting. */
  ping(): ClientEvent[] {
    return this.finished ? [] : [this.ev('ping', {})];
  }

  private start(chunk: GeminiResponse | undefined): ClientEvent[] {
    if (this.started) return [];
    this.started = true;
    if (chunk) this.responseKey = responseKeyOf(chunk);
    this.id ??= `msg_${this.responseKey}`;
    const u = anthropicUsage(normalizeUsage(chunk?.usageMetadata));
    return [
      this.ev('message_start', {
        message: {
          id: this.id,
          type: 'message',
          role: 'assistant',
          model: this.opts.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...u, output_tokens: 0 },
        },
      }),
      this.ev('ping', {}),
    ];
  }

  private close(out: ClientEvent[]): void {
    if (!this.open) return;
    out.push(this.ev('content_block_stop', { index: this.index }));
    this.open = undefined;
  }

  private openBlock(out: ClientEvent[], type: 'text' | 'thinking'): void {
    this.close(out);
    this.index++;
    this.open = { type, signed: false };
    out.push(
      this.ev('content_block_start', {
        index: this.index,
        content_block:
          type === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
      }),
    );
  }

  private signature(out: ClientEvent[], signature: string): void {
    out.push(
      this.ev('content_block_delta', { index: this.index, delta: { type: 'signature_delta', signature } }),
    );
    if (this.open) this.open.signed = true;
  }

  /** Puts a signature carried by a non-thought part on the thinking block before it. */
  private attachSignature(out: ClientEvent[], signature: string): void {
    if (this.open?.type !== 'thinking' || this.open.signed) this.openBlock(out, 'thinking');
    this.signature(out, signature);
    this.close(out);
  }

  push(chunk: GeminiResponse): ClientEvent[] {
    if (this.finished) return [];
    const out = this.start(chunk);
    if (chunk.usageMetadata) this.lastUsage = normalizeUsage(chunk.usageMetadata);
    if (chunk.promptFeedback?.blockReason !== undefined) this.blocked = true;
    const candidate = chunk.candidates?.[0];
    if (candidate?.finishReason !== undefined) this.finishReason = candidate.finishReason;
    for (const part of candidate?.content?.parts ?? []) {
      const sig = part.thoughtSignature;
      if (part.functionCall) {
        const id = stableToolCallId(
          'toolu_',
          part.functionCall.id,
          this.responseKey,
          this.toolCount++,
          part.functionCall.name,
        );
        if (sig !== undefined) {
          this.opts.signatures?.set(id, sig);
          this.attachSignature(out, sig);
        }
        this.close(out);
        this.index++;
        out.push(
          this.ev('content_block_start', {
            index: this.index,
            content_block: { type: 'tool_use', id, name: part.functionCall.name, input: {} },
          }),
          this.ev('content_block_delta', {
            index: this.index,
            delta: { type: 'input_json_delta', partial_json: JSON.stringify(part.functionCall.args ?? {}) },
          }),
          this.ev('content_block_stop', { index: this.index }),
        );
      } else if (part.thought === true) {
        const text = part.text ?? '';
        if (this.open?.type !== 'thinking' || (this.open.signed && text.length > 0))
          this.openBlock(out, 'thinking');
        if (text.length > 0) {
          out.push(
            this.ev('content_block_delta', {
              index: this.index,
              delta: { type: 'thinking_delta', thinking: text },
            }),
          );
        }
        if (sig !== undefined) this.signature(out, sig);
      } else if (typeof part.text === 'string') {
        if (sig !== undefined) this.attachSignature(out, sig);
        if (part.text.length === 0) continue;
        if (this.open?.type !== 'text') this.openBlock(out, 'text');
        out.push(
          this.ev('content_block_delta', {
            index: this.index,
            delta: { type: 'text_delta', text: part.text },
          }),
        );
      }
    }
    return out;
  }

  end(): ClientEvent[] {
    if (this.finished) return [];
    const out = this.start(undefined);
    this.finished = true;
    this.close(out);
    const kind =
      this.blocked && this.finishReason === undefined
        ? 'safety'
        : stopKindOf(this.finishReason, this.toolCount > 0);
    const u = anthropicUsage(this.lastUsage ?? normalizeUsage(undefined));
    out.push(
      this.ev('message_delta', {
        delta: { stop_reason: anthropicStopReason(kind), stop_sequence: null },
        usage: u,
      }),
      this.ev('message_stop', {}),
    );
    return out;
  }

  error(err: ClientErrorInfo): ClientEvent[] {
    if (this.finished) return [];
    this.finished = true;
    return anthropicErrorEvents(err);
  }
}

/**
 * Folds a Messages event stream back into the message it describes (what SDKs do). Used to build the
 * non-streamed answer from the same state machine, so both always agree.
 */
export function accumulateAnthropicEvents(events: readonly ClientEvent[]): AnthropicMessage {
  let message: AnthropicMessage | undefined;
  const partialJson = new Map<number, string>();
  for (const ev of events) {
    const data = JSON.parse(ev.data) as Record<string, unknown> & { type: string };
    switch (data.type) {
      case 'message_start':
        message = structuredClone(data.message) as AnthropicMessage;
        break;
      case 'content_block_start':
        message?.content.push(structuredClone(data.content_block) as AnthropicResponseBlock);
        break;
      case 'content_block_delta': {
        const index = data.index as number;
        const block = message?.content[index];
        const delta = data.delta as Record<string, string>;
        if (!block) break;
        if (delta.type === 'text_delta' && block.type === 'text') block.text += delta.text;
        else if (delta.type === 'thinking_delta' && block.type === 'thinking')
          block.thinking += delta.thinking;
        else if (delta.type === 'signature_delta' && block.type === 'thinking')
          block.signature = delta.signature as string;
        else if (delta.type === 'input_json_delta') {
          partialJson.set(index, (partialJson.get(index) ?? '') + delta.partial_json);
        }
        break;
      }
      case 'content_block_stop': {
        const index = data.index as number;
        const block = message?.content[index];
        const json = partialJson.get(index);
        if (block?.type === 'tool_use' && json !== undefined) {
          block.input = json.length > 0 ? (JSON.parse(json) as Record<string, unknown>) : {};
        }
        break;
      }
      case 'message_delta':
        if (message) {
          const delta = data.delta as {
            stop_reason: AnthropicStopReason | null;
            stop_sequence: string | null;
          };
          message.stop_reason = delta.stop_reason;
          message.stop_sequence = delta.stop_sequence;
          message.usage = { ...message.usage, ...(data.usage as Partial<AnthropicUsage>) };
        }
        break;
      default:
        break;
    }
  }
  if (!message) throw new Error('the event stream has no message_start');
  return message;
}

/** A Gemini generateContent answer → an Anthropic message. */
export function toAnthropicMessage(resp: GeminiResponse, opts: AnthropicResponseOptions): AnthropicMessage {
  const t = new AnthropicStreamTranslator(opts);
  return accumulateAnthropicEvents([...t.push(resp), ...t.end()]);
}

// ---------------------------------------------------------------------------------------------
// Errors, models and the codec

const ANTHROPIC_ERROR_TYPE: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** `{type: "error", error: {type, message}}`: the HTTP error body and the stream's `error` event data. */
export function anthropicErrorBody(err: ClientErrorInfo): AnthropicErrorBody {
  return {
    type: 'error',
    error: {
      type: ANTHROPIC_ERROR_TYPE[err.status] ?? (err.status >= 500 ? 'api_error' : 'invalid_request_error'),
      message: err.message,
    },
  };
}

/** A stream ended in error: an `event: error` frame (what the Anthropic SDKs read). */
export function anthropicErrorEvents(err: ClientErrorInfo): ClientEvent[] {
  return [{ event: 'error', data: JSON.stringify(anthropicErrorBody(err)) }];
}

/** One model in Anthropic's shape. `createdAt` is an ISO timestamp. */
export function anthropicModel(m: ModelInfo, createdAt = MODEL_CREATED_ISO) {
  return { type: 'model' as const, id: m.id, display_name: m.displayName, created_at: createdAt };
}

/** `GET /v1/models` in Anthropic's shape. `createdAt` is an ISO timestamp. */
export function anthropicModelsList(models: readonly ModelInfo[], createdAt = MODEL_CREATED_ISO) {
  const data = models.map((m) => anthropicModel(m, createdAt));
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

/** The Anthropic Messages format for the routes (with count_tokens). */
export function anthropicCodec(deps: CodecDeps): ClientCodec<TranslatedRequest> {
  const { signatures } = deps;
  return {
    format: 'anthropic',
    parse: (body) => translateAnthropicRequest(body, { signatures }),
    model: (t) => t.model,
    stream: (t) => t.stream,
    sessionKey: (t, headers) => sessionKeyWithHeader(t.sessionKey, headers),
    toGemini: (t) => t.request,
    fromGemini: (res, model) => toAnthropicMessage(res, { model, signatures }),
    encoder: (model) => new AnthropicStreamTranslator({ model, signatures }),
    errorBody: anthropicErrorBody,
    errorEvents: anthropicErrorEvents,
    countTokens: {
      parse: (body) => translateAnthropicCountTokens(body, { signatures }),
      answer: (totalTokens) => toAnthropicCountTokens({ totalTokens }),
    },
    models: { list: (models) => anthropicModelsList(models), one: (m) => anthropicModel(m) },
  };
}

/**
 * OpenAI Responses API (`POST /v1/responses`) ⇄ Gemini: the request schema and its translation, the
 * `response` object, the `response.*` event stream and the error shapes.
 *
 * Input items: messages of every role (system and developer text joins the system instruction),
 * `function_call` / `function_call_output`, `custom_tool_call` / `custom_tool_call_output`,
 * `reasoning` items and `additional_tools` (tools declared in the input, as Codex CLI does) are
 * translated; items of OpenAI-hosted tools (web search, file search, computer,
 * code interpreter, image generation, MCP, shell, apply_patch, …) and compaction items have no Gemini
 * equivalent and are dropped with a note. `previous_response_id` is served from the codec's bounded
 * in-memory store of earlier answers (see RESPONSE_STORE_LIMITS); `item_reference`, `conversation`,
 * stored `prompt` templates and `background` need OpenAI's server-side state and are refused with a
 * 400 that says to send the full input (as Codex CLI does, with `store: false`).
 *
 * Tools: `function` tools pass through; the functions of a `namespace` tool are flattened to
 * `namespace__name` and turned back into `{name, namespace}` on the way out; `custom` (freeform) tools
 * become functions with one string argument `input` and come back as `custom_tool_call` items;
 * hosted tools are dropped with a note.
 *
 * Reasoning: Gemini thought parts become `reasoning` items whose summary is the thought text. Their
 * `encrypted_content` carries the thought parts with their signatures (and a signature Gemini put on
 * the part that follows), so a client that sends its reasoning items back (Codex does, with
 * `include: ["reasoning.encrypted_content"]`) gives Gemini its signatures back on the next turn.
 * Signatures of function calls are also kept per call id in the SignatureStore.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { LruTtlMap } from '../../core/pool/lruTtlMap';
import type {
  GeminiContent,
  GeminiFunctionDeclaration,
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
  type TranslatedRequest,
  type TranslateOptions,
  deriveSessionKey,
  firstCandidateParts,
  normalizeUsage,
  parseBody,
  RequestValidationError,
  responseKeyOf,
  sha256,
  stableToolCallId,
  stopKindOf,
  toolResultObject,
} from './common';
import { toUpstreamParameters, toUpstreamResponseSchema } from './schema';
import { type ClientCodec, type CodecDeps, sessionKeyWithHeader } from './codec';
import {
  appendTurn,
  DATA_URL,
  imagePart,
  openAiErrorBody,
  parseArguments,
  REASONING_BUDGETS,
} from './openai';

// ---------------------------------------------------------------------------------------------
// Request schema

const ItemSchema = z.looseObject({ type: z.string().nullish() });
const ToolSchema = z.looseObject({ type: z.string().min(1) });

export const ResponsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(ItemSchema)]).optional(),
  instructions: z.string().nullish(),
  tools: z.array(ToolSchema).nullish(),
  tool_choice: z
    .union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string().min(1) })])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  include: z.array(z.string()).nullish(),
  text: z
    .looseObject({
      format: z
        .discriminatedUnion('type', [
          z.looseObject({ type: z.literal('text') }),
          z.looseObject({ type: z.literal('json_object') }),
          z.looseObject({
            type: z.literal('json_schema'),
            name: z.string().optional(),
            schema: z.record(z.string(), z.unknown()).optional(),
          }),
        ])
        .nullish(),
      verbosity: z.string().nullish(),
    })
    .nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  prompt_cache_key: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  background: z.boolean().nullish(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

const PartSchema = z.looseObject({ type: z.string().min(1) });
const MessageItemSchema = z.looseObject({
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(PartSchema)]),
});
const TextPartSchema = z.looseObject({ text: z.string() });
const RefusalPartSchema = z.looseObject({ refusal: z.string() });
const ImagePartSchema = z.looseObject({ image_url: z.string().nullish(), file_id: z.string().nullish() });
const FilePartSchema = z.looseObject({
  file_data: z.string().nullish(),
  file_url: z.string().nullish(),
  file_id: z.string().nullish(),
  filename: z.string().nullish(),
});
const CallItemSchema = z.looseObject({
  call_id: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().nullish(),
});
const FunctionCallItemSchema = CallItemSchema.extend({ arguments: z.string() });
const CustomCallItemSchema = CallItemSchema.extend({ input: z.string() });
/** Tool output: a string, a list of content parts, or (older Codex) `{content, success}`. */
const CallOutputItemSchema = z.looseObject({
  call_id: z.string().min(1),
  output: z.union([
    z.string(),
    z.array(PartSchema),
    z.looseObject({ content: z.string(), success: z.boolean().nullish() }),
  ]),
});
const AdditionalToolsItemSchema = z.looseObject({ tools: z.array(ToolSchema) });
const ReasoningItemSchema = z.looseObject({
  summary: z.array(z.looseObject({ text: z.string() })).nullish(),
  encrypted_content: z.string().nullish(),
});

/** Items of tools Gemini cannot run (OpenAI-hosted or OpenAI-specific): dropped with a note. */
const HOSTED_ITEM_TYPES = new Set([
  'file_search_call',
  'computer_call',
  'computer_call_output',
  'web_search_call',
  'tool_search_call',
  'tool_search_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
  'compaction',
  'compaction_trigger',
  'program',
  'program_output',
]);

// ---------------------------------------------------------------------------------------------
// Tool names

/** What a Gemini function name stands for on the client's side. */
export interface ToolRef {
  kind: 'function' | 'custom';
  /** The name the client declared. */
  name: string;
  /** The namespace tool it sits in, if any. */
  namespace?: string;
}

const GEMINI_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/**
 * The Gemini function name for a client tool: plain names as they are; a namespaced one as
 * `namespace__name` (no extra `__` after a namespace that already ends in `_`), made safe for Gemini
 * (letters, digits, `_ . : -`, at most 64) with a hash suffix when it had to be changed.
 */
export function flatToolName(name: string, namespace?: string | null): string {
  if (namespace == null || namespace === '') return name;
  const joined = namespace.endsWith('_') ? namespace + name : `${namespace}__${name}`;
  if (GEMINI_NAME.test(joined)) return joined;
  const safe = joined.replace(/[^A-Za-z0-9_.:-]/g, '_').replace(/^[^A-Za-z_]/, '_');
  return `${safe.slice(0, 51)}_${sha256(joined).slice(0, 12)}`;
}

function customToolDescription(tool: Record<string, unknown>): string {
  const base = typeof tool.description === 'string' ? tool.description : '';
  const format = tool.format;
  let how = 'Put the whole free-form input in the `input` string.';
  if (typeof format === 'object' && format !== null && (format as { type?: unknown }).type === 'grammar') {
    const f = format as { syntax?: unknown; definition?: unknown };
    if (typeof f.definition === 'string') {
      how = `Put the whole input in the \`input\` string; it must match this ${String(f.syntax ?? '')} grammar:\n${f.definition}`;
    }
  }
  return base.length > 0 ? `${base}\n\n${how}` : how;
}

const CUSTOM_PARAMETERS = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The raw input for the tool.' } },
  required: ['input'],
};

interface TranslatedTools {
  declarations: GeminiFunctionDeclaration[];
  index: Map<string, ToolRef>;
}

/** A tool declaration and the request field it came from. */
interface ToolAt {
  tool: Record<string, unknown> & { type: string };
  at: string;
}

/**
 * Tools of `tools` and of `additional_tools` input items → Gemini function declarations. A name
 * declared again (Codex repeats its tool list) replaces the earlier declaration.
 */
function translateTools(tools: readonly ToolAt[], notes: string[]): TranslatedTools {
  const byName = new Map<string, GeminiFunctionDeclaration>();
  const index = new Map<string, ToolRef>();
  const add = (
    tool: Record<string, unknown>,
    at: string,
    namespace?: string,
    nsDescription?: string,
  ): void => {
    const name = typeof tool.name === 'string' ? tool.name : '';
    if (name.length === 0) {
      throw new RequestValidationError(`${at}.name: a ${String(tool.type)} tool needs a name.`, `${at}.name`);
    }
    const flat = flatToolName(name, namespace);
    const desc =
      typeof tool.description === 'string' && tool.description.length > 0 ? tool.description : nsDescription;
    if (tool.type === 'custom') {
      index.set(flat, { kind: 'custom', name, ...(namespace ? { namespace } : {}) });
      byName.set(flat, {
        name: flat,
        description: customToolDescription({ ...tool, description: desc }),
        parameters: structuredClone(CUSTOM_PARAMETERS),
      });
    } else {
      index.set(flat, { kind: 'function', name, ...(namespace ? { namespace } : {}) });
      byName.set(flat, {
        name: flat,
        ...(desc === undefined ? {} : { description: desc }),
        parameters: toUpstreamParameters(tool.parameters, `${at}.parameters`),
      });
    }
  };
  for (const { tool, at } of tools) {
    switch (tool.type) {
      case 'function':
      case 'custom':
        add(tool, at);
        break;
      case 'namespace': {
        const ns = typeof tool.name === 'string' ? tool.name : '';
        const inner = Array.isArray(tool.tools) ? (tool.tools as unknown[]) : [];
        if (ns.length === 0) {
          throw new RequestValidationError(`${at}.name: a namespace tool needs a name.`, `${at}.name`);
        }
        const nsDescription =
          typeof tool.description === 'string' && tool.description.length > 0 ? tool.description : undefined;
        inner.forEach((t, j) => {
          if (typeof t !== 'object' || t === null) return;
          const rec = t as Record<string, unknown>;
          if (rec.type === 'function' || rec.type === 'custom')
            add(rec, `${at}.tools.${j}`, ns, nsDescription);
          else notes.push(`${at}.tools.${j}: "${String(rec.type)}" tool in namespace "${ns}" dropped`);
        });
        break;
      }
      default:
        notes.push(`${at}: built-in tool "${tool.type}" dropped (the upstream has no equivalent)`);
    }
  }
  return { declarations: [...byName.values()], index };
}

function toolConfigOf(
  choice: NonNullable<ResponsesRequest['tool_choice']>,
  index: ReadonlyMap<string, ToolRef>,
  notes: string[],
): GeminiToolConfig {
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  // A tool_choice names a tool as the client knows it: plainly, or (inside a namespace) by its own name.
  const named = (name: unknown, field: string): string => {
    const wanted = typeof name === 'string' ? name : '';
    if (index.has(wanted)) return wanted;
    const inNamespace = [...index].filter(([, ref]) => ref.name === wanted).map(([flat]) => flat);
    if (inNamespace.length === 1) return inNamespace[0] as string;
    throw new RequestValidationError(
      inNamespace.length > 1
        ? `${field}: "${wanted}" names tools in several namespaces (${inNamespace.join(', ')}); use "allowed_tools" with the namespace.`
        : `${field}: no function or custom tool named "${wanted}" is declared in tools; name one of them or use "auto".`,
      field,
    );
  };
  if (choice.type === 'function' || choice.type === 'custom') {
    return {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [named(choice.name, 'tool_choice.name')] },
    };
  }
  if (choice.type === 'allowed_tools') {
    const listed = Array.isArray(choice.tools) ? (choice.tools as unknown[]) : [];
    const names = listed
      .map((t) => (typeof t === 'object' && t !== null ? (t as Record<string, unknown>) : {}))
      .filter((t) => t.type === 'function' || t.type === 'custom')
      .map((t) =>
        flatToolName(String(t.name ?? ''), typeof t.namespace === 'string' ? t.namespace : undefined),
      )
      .filter((n) => index.has(n));
    if (choice.mode === 'required') {
      return {
        functionCallingConfig: { mode: 'ANY', ...(names.length > 0 ? { allowedFunctionNames: names } : {}) },
      };
    }
    notes.push(
      'tool_choice: allowed_tools in auto mode is sent as "auto" (every declared tool stays callable)',
    );
    return { functionCallingConfig: { mode: 'AUTO' } };
  }
  notes.push(`tool_choice: "${choice.type}" names a built-in tool the upstream lacks; sent as "auto"`);
  return { functionCallingConfig: { mode: 'AUTO' } };
}

// ---------------------------------------------------------------------------------------------
// Reasoning carrier (encrypted_content)

const CARRIER_PREFIX = 'qp1.';

const CarrierSchema = z.object({
  /** Thought parts: text and signature. */
  p: z.array(z.object({ t: z.string(), s: z.string().optional() })),
  /** A signature Gemini put on the part after the thoughts (a function call or text). */
  n: z.string().optional(),
});
type Carrier = z.infer<typeof CarrierSchema>;

/** The `encrypted_content` of a reasoning item: Gemini's thought parts and signatures, base64url JSON. */
export function encodeReasoningCarrier(c: Carrier): string {
  return CARRIER_PREFIX + Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

/** The carrier inside an `encrypted_content`, or undefined when it is not one of ours. */
export function decodeReasoningCarrier(value: string | null | undefined): Carrier | undefined {
  if (typeof value !== 'string' || !value.startsWith(CARRIER_PREFIX)) return undefined;
  try {
    const r = CarrierSchema.safeParse(
      JSON.parse(Buffer.from(value.slice(CARRIER_PREFIX.length), 'base64url').toString('utf8')),
    );
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Request translation

/** Request fields the response object repeats back (as OpenAI's does). */
export interface ResponsesEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  reasoning: { effort: string | null; summary: string | null };
  temperature: number | null;
  top_p: number | null;
  text: { format: Record<string, unknown>; verbosity?: string };
  tool_choice: unknown;
  tools: unknown[];
  metadata: Record<string, string>;
  prompt_cache_key: string | null;
  safety_identifier: string | null;
  user: string | null;
  previous_response_id: string | null;
}

export interface ResponsesTranslatedRequest extends TranslatedRequest {
  /** Gemini function name → the client's tool. */
  tools: ReadonlyMap<string, ToolRef>;
  /** `include` has `reasoning.encrypted_content`: emit a reasoning item to carry a lone signature. */
  includeEncrypted: boolean;
  echo: ResponsesEcho;
  /** What was dropped or approximated, for the debug log. */
  notes: string[];
  /** Every input item of the conversation (those of `previous_response_id` first), for the store. */
  input: ReadonlyArray<Record<string, unknown>>;
  /** Whether to keep the answer for `previous_response_id` / `GET /v1/responses/{id}` (`store`, default true). */
  store: boolean;
}

/** Options of the request translation. */
export interface ResponsesTranslateOptions extends TranslateOptions {
  /** The stored conversation (input and output items) of an earlier response, by id. */
  history?: ((responseId: string) => ReadonlyArray<Record<string, unknown>> | undefined) | undefined;
  /** How long responses are kept, for the error when one is gone (e.g. "1 hour"). */
  retention?: string | undefined;
}

function storageRefused(field: string, what: string): RequestValidationError {
  return new RequestValidationError(
    `${field}: ${what} refers to state kept on OpenAI's servers, which Quota Pilot does not have. ` +
      'Send the whole conversation in `input` instead (with `store: false`, as Codex CLI does).',
    field,
  );
}

/** Parses one item (or part) with `schema`, naming the field from the request's root on failure. */
function parseAt<S extends z.ZodType>(schema: S, value: unknown, at: string): z.infer<S> {
  try {
    return parseBody(schema, value, `Responses field ${at}`);
  } catch (e) {
    if (e instanceof RequestValidationError) {
      throw new RequestValidationError(e.message, e.field === '(body)' ? at : `${at}.${e.field}`);
    }
    throw e;
  }
}

const FILE_MIME: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  html: 'text/html',
  json: 'application/json',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

function noRemote(field: string, what: string): RequestValidationError {
  return new RequestValidationError(
    `${field}: ${what} is not supported (the proxy neither fetches URLs nor stores files); ` +
      'send the bytes inline as a base64 data: URL.',
    field,
  );
}

/** Content parts → Gemini parts, plus their text (for the session key and system prompt). */
function contentParts(
  content: string | ReadonlyArray<Record<string, unknown> & { type: string }>,
  at: string,
  notes: string[],
): { parts: GeminiPart[]; text: string } {
  if (typeof content === 'string')
    return { parts: content.length > 0 ? [{ text: content }] : [], text: content };
  const parts: GeminiPart[] = [];
  const texts: string[] = [];
  content.forEach((p, j) => {
    const field = `${at}.${j}`;
    switch (p.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
      case 'summary_text':
      case 'reasoning_text': {
        const { text } = parseAt(TextPartSchema, p, field);
        texts.push(text);
        if (text.length > 0) parts.push({ text });
        break;
      }
      case 'refusal': {
        const { refusal } = parseAt(RefusalPartSchema, p, field);
        texts.push(refusal);
        if (refusal.length > 0) parts.push({ text: refusal });
        break;
      }
      case 'input_image': {
        const img = parseAt(ImagePartSchema, p, field);
        if (img.image_url == null) throw noRemote(`${field}.file_id`, 'an image by file_id');
        parts.push(imagePart(img.image_url, `${field}.image_url`));
        break;
      }
      case 'input_file': {
        const f = parseAt(FilePartSchema, p, field);
        if (f.file_data == null) {
          throw noRemote(
            `${field}.${f.file_url != null ? 'file_url' : 'file_id'}`,
            'a file by URL or file_id',
          );
        }
        const m = DATA_URL.exec(f.file_data);
        const ext = (f.filename ?? '').toLowerCase().split('.').pop() ?? '';
        parts.push({
          inlineData: m
            ? { mimeType: m[1] as string, data: m[2] as string }
            : { mimeType: FILE_MIME[ext] ?? 'application/pdf', data: f.file_data },
        });
        break;
      }
      default:
        notes.push(`${field}: content part "${p.type}" dropped`);
    }
  });
  return { parts, text: texts.join('') };
}

/** A tool output (string, parts or `{content}`) → the functionResponse text and any media parts. */
function outputOf(
  output: z.infer<typeof CallOutputItemSchema>['output'],
  at: string,
  notes: string[],
): { text: string; media: GeminiPart[]; isError: boolean } {
  if (typeof output === 'string') return { text: output, media: [], isError: false };
  if (!Array.isArray(output)) return { text: output.content, media: [], isError: output.success === false };
  const { parts, text } = contentParts(output, `${at}.output`, notes);
  return { text, media: parts.filter((p) => p.text === undefined), isError: false };
}

/** Validates a Responses create body and translates it into a Gemini request. */
export function translateResponsesRequest(
  body: unknown,
  opts: ResponsesTranslateOptions = {},
): ResponsesTranslatedRequest {
  const req = parseBody(ResponsesRequestSchema, body, 'Responses request');
  let history: ReadonlyArray<Record<string, unknown>> = [];
  if (req.previous_response_id != null) {
    if (!opts.history) throw storageRefused('previous_response_id', 'previous_response_id');
    const found = opts.history(req.previous_response_id);
    if (found === undefined) {
      throw new RequestValidationError(
        `previous_response_id: no stored response "${req.previous_response_id}". Quota Pilot keeps responses ` +
          `in memory only${opts.retention ? ` (for ${opts.retention} after last use)` : ''}, not across restarts ` +
          'and not those sent with `store: false`; send the whole conversation in `input` instead.',
        'previous_response_id',
      );
    }
    history = found;
  }
  if (req.conversation != null) throw storageRefused('conversation', 'conversation');
  if (req.prompt != null) throw storageRefused('prompt', 'a stored prompt template');
  if (req.background === true) {
    throw new RequestValidationError(
      'background: background responses need server-side storage, which Quota Pilot does not keep; ' +
        'drop `background` (or set it to false) and read the answer from this request.',
      'background',
    );
  }
  if (req.input === undefined) {
    throw new RequestValidationError('input: required; send the conversation as input items.', 'input');
  }
  const notes: string[] = [];
  const own: Array<Record<string, unknown>> =
    typeof req.input === 'string' ? [{ type: 'message', role: 'user', content: req.input }] : req.input;
  const items = [...history, ...own];
  const fieldOf = (i: number): string =>
    i < history.length ? `previous_response_id.${i}` : `input.${i - history.length}`;
  // Tools come in `tools` and (Codex) in `additional_tools` input items.
  const toolList: ToolAt[] = (req.tools ?? []).map((tool, i) => ({ tool, at: `tools.${i}` }));
  items.forEach((item, i) => {
    if (item.type !== 'additional_tools') return;
    const extra = parseAt(AdditionalToolsItemSchema, item, fieldOf(i));
    extra.tools.forEach((tool, j) => toolList.push({ tool, at: `${fieldOf(i)}.tools.${j}` }));
  });
  const { declarations, index } = translateTools(toolList, notes);

  const system: string[] = [];
  if (req.instructions != null && req.instructions.length > 0) system.push(req.instructions);
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();
  let firstUserText: string | undefined;
  // A signature a reasoning item carries for the next model part (see the file comment).
  let pending: string | undefined;

  const model = (parts: GeminiPart[], signatureFor?: string): void => {
    if (parts.length === 0) return;
    const first = parts[0] as GeminiPart;
    const sig = pending ?? (signatureFor === undefined ? undefined : opts.signatures?.get(signatureFor));
    pending = undefined;
    if (sig !== undefined && first.thoughtSignature === undefined) first.thoughtSignature = sig;
    appendTurn(contents, 'model', parts);
  };
  const user = (parts: GeminiPart[]): void => {
    if (pending !== undefined) notes.push('a reasoning signature with no model part after it was dropped');
    pending = undefined;
    appendTurn(contents, 'user', parts);
  };

  items.forEach((item, i) => {
    const at = fieldOf(i);
    const type = typeof item.type === 'string' ? item.type : 'message';
    switch (type) {
      case 'message': {
        const msg = parseAt(MessageItemSchema, item, at);
        const { parts, text } = contentParts(msg.content, `${at}.content`, notes);
        if (msg.role === 'system' || msg.role === 'developer') {
          if (text.length > 0) system.push(text);
          if (parts.some((p) => p.text === undefined))
            notes.push(`${at}: non-text content of a ${msg.role} message dropped`);
        } else if (msg.role === 'user') {
          firstUserText ??= text;
          user(parts);
        } else {
          model(parts);
        }
        break;
      }
      case 'function_call':
      case 'custom_tool_call': {
        const call = parseAt(
          type === 'function_call' ? FunctionCallItemSchema : CustomCallItemSchema,
          item,
          at,
        );
        const name = flatToolName(call.name, call.namespace);
        callNames.set(call.call_id, name);
        const args =
          'arguments' in call && typeof call.arguments === 'string'
            ? parseArguments(call.arguments, `${at}.arguments`)
            : { input: (call as { input: string }).input };
        model([{ functionCall: { name, args, id: call.call_id } }], call.call_id);
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const out = parseAt(CallOutputItemSchema, item, at);
        const name = callNames.get(out.call_id);
        if (name === undefined) {
          throw new RequestValidationError(
            `${at}.call_id: no function_call or custom_tool_call item with call_id "${out.call_id}" comes before ` +
              'this output; Quota Pilot keeps no earlier responses, so send the call item in input too.',
            `${at}.call_id`,
          );
        }
        const { text, media, isError } = outputOf(out.output, at, notes);
        user([
          { functionResponse: { name, response: toolResultObject(text, isError), id: out.call_id } },
          ...media,
        ]);
        break;
      }
      case 'reasoning': {
        const r = parseAt(ReasoningItemSchema, item, at);
        const carrier = decodeReasoningCarrier(r.encrypted_content);
        if (!carrier) {
          notes.push(`${at}: reasoning item without Quota Pilot's encrypted_content dropped`);
          break;
        }
        const parts: GeminiPart[] = carrier.p
          .filter((p) => p.t.length > 0 || p.s !== undefined)
          .map((p) => ({
            text: p.t,
            thought: true,
            ...(p.s === undefined ? {} : { thoughtSignature: p.s }),
          }));
        if (parts.length > 0) appendTurn(contents, 'model', parts);
        pending = carrier.n;
        break;
      }
      case 'additional_tools':
        // Declared with the tools above.
        break;
      case 'item_reference':
        throw storageRefused(`${at}.id`, 'an item_reference');
      default:
        notes.push(
          HOSTED_ITEM_TYPES.has(type)
            ? `${at}: "${type}" item dropped (its tool has no upstream equivalent)`
            : `${at}: unknown item type "${type}" dropped`,
        );
    }
  });

  if (contents.length === 0) {
    throw new RequestValidationError(
      'input: the conversation has no user or assistant content; add at least one user message with text.',
      'input',
    );
  }

  const request: GeminiRequest = { contents };
  const systemText = system.join('\n\n');
  if (system.length > 0) request.systemInstruction = { parts: [{ text: systemText }] };
  if (declarations.length > 0) request.tools = [{ functionDeclarations: declarations }];
  if (req.tool_choice != null && declarations.length > 0)
    request.toolConfig = toolConfigOf(req.tool_choice, index, notes);
  if (req.parallel_tool_calls === false) notes.push('parallel_tool_calls: false is not enforced upstream');

  const gen: GeminiGenerationConfig = {};
  if (req.max_output_tokens != null) gen.maxOutputTokens = req.max_output_tokens;
  if (req.temperature != null) gen.temperature = req.temperature;
  if (req.top_p != null) gen.topP = req.top_p;
  const effort = req.reasoning?.effort ?? undefined;
  const summary = req.reasoning?.summary ?? undefined;
  if (effort !== undefined) {
    let budget = REASONING_BUDGETS[effort];
    if (budget === undefined) {
      notes.push(`reasoning.effort: "${effort}" unknown; medium used`);
      budget = REASONING_BUDGETS.medium ?? 8192;
    }
    gen.thinkingConfig = { includeThoughts: budget > 0, thinkingBudget: budget };
  } else if (summary !== undefined && summary !== 'none') {
    gen.thinkingConfig = { includeThoughts: true };
  }
  const format = req.text?.format ?? undefined;
  if (format?.type === 'json_object') gen.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    gen.responseMimeType = 'application/json';
    if (format.schema) {
      const schema = toUpstreamResponseSchema(format.schema, 'text.format.schema');
      if (schema !== undefined) gen.responseSchema = schema;
    }
  }
  if (Object.keys(gen).length > 0) request.generationConfig = gen;

  return {
    model: req.model,
    request,
    stream: req.stream === true,
    sessionKey: deriveSessionKey({
      clientId: req.prompt_cache_key ?? req.user ?? req.safety_identifier ?? undefined,
      system: systemText,
      firstUserText,
    }),
    tools: index,
    includeEncrypted: (req.include ?? []).includes('reasoning.encrypted_content'),
    notes,
    input: items,
    store: req.store !== false,
    echo: {
      instructions: req.instructions ?? null,
      max_output_tokens: req.max_output_tokens ?? null,
      parallel_tool_calls: req.parallel_tool_calls ?? true,
      reasoning: { effort: effort ?? null, summary: summary ?? null },
      temperature: req.temperature ?? null,
      top_p: req.top_p ?? null,
      text: {
        format: format ?? { type: 'text' },
        ...(req.text?.verbosity != null ? { verbosity: req.text.verbosity } : {}),
      },
      tool_choice: req.tool_choice ?? 'auto',
      tools: req.tools ?? [],
      metadata: req.metadata ?? {},
      prompt_cache_key: req.prompt_cache_key ?? null,
      safety_identifier: req.safety_identifier ?? null,
      user: req.user ?? null,
      previous_response_id: req.previous_response_id ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Output items

export interface OutputTextPart {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

export interface MessageItem {
  id: string;
  type: 'message';
  role: 'assistant';
  status: 'in_progress' | 'completed' | 'incomplete';
  content: OutputTextPart[];
}

export interface ReasoningItem {
  id: string;
  type: 'reasoning';
  summary: Array<{ type: 'summary_text'; text: string }>;
  encrypted_content: string | null;
  status?: 'in_progress' | 'completed';
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: 'in_progress' | 'completed';
  call_id: string;
  name: string;
  namespace?: string;
  arguments: string;
}

export interface CustomToolCallItem {
  id: string;
  type: 'custom_tool_call';
  status: 'in_progress' | 'completed';
  call_id: string;
  name: string;
  namespace?: string;
  input: string;
}

export type OutputItem = MessageItem | ReasoningItem | FunctionCallItem | CustomToolCallItem;

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export function responsesUsage(u: NormalizedUsage): ResponsesUsage {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.totalTokens,
  };
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export interface ResponseObject extends Omit<ResponsesEcho, 'safety_identifier'> {
  id: string;
  object: 'response';
  created_at: number;
  completed_at: number | null;
  status: ResponseStatus;
  background: false;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  model: string;
  output: OutputItem[];
  safety_identifier: string | null;
  service_tier: 'default';
  store: boolean;
  truncation: 'disabled';
  usage: ResponsesUsage | null;
}

export interface ResponsesOutputOptions {
  /** Model name to report (as the client asked for it). */
  model: string;
  /** Unix seconds for `created_at` / `completed_at`. */
  created: number;
  signatures?: SignatureStore | undefined;
  /** The response id; derived from the upstream response id when absent. */
  id?: string | undefined;
  /** The answer is kept for later requests (the `store` field says so). */
  stored?: boolean | undefined;
  /** Called with the finished response (completed or incomplete; not failed), e.g. to store it. */
  onDone?: ((response: ResponseObject) => void) | undefined;
}

type Emit = (type: string, payload: Record<string, unknown>) => void;

interface OpenReasoning {
  kind: 'reasoning';
  item: ReasoningItem;
  index: number;
  blocks: Array<{ t: string; s?: string }>;
  /** The summary part being streamed (the last block, while it has no signature). */
  summaryOpen: boolean;
  next?: string;
}

interface OpenMessage {
  kind: 'message';
  item: MessageItem;
  index: number;
  text: string;
}

/**
 * Turns Gemini parts, in order, into output items, emitting the `response.*` item events as it
 * goes. The whole answer and the stream share it, so both give the same items.
 */
class OutputAssembler {
  readonly output: OutputItem[] = [];
  private open: OpenReasoning | OpenMessage | undefined;
  private calls = 0;

  constructor(
    private readonly responseKey: string,
    private readonly req: ResponsesTranslatedRequest,
    private readonly signatures: SignatureStore | undefined,
    private readonly emit: Emit,
  ) {}

  get calledTools(): boolean {
    return this.calls > 0;
  }

  private id(prefix: string): string {
    return `${prefix}_${sha256(`${this.responseKey}\u0000${this.output.length}`).slice(0, 32)}`;
  }

  private add(item: OutputItem): number {
    const index = this.output.length;
    this.output.push(item);
    this.emit('response.output_item.added', { output_index: index, item: structuredClone(item) });
    return index;
  }

  private openReasoning(): OpenReasoning {
    if (this.open?.kind === 'reasoning') return this.open;
    this.close();
    const item: ReasoningItem = {
      id: this.id('rs'),
      type: 'reasoning',
      summary: [],
      encrypted_content: null,
    };
    const open: OpenReasoning = {
      kind: 'reasoning',
      item,
      index: this.add(item),
      blocks: [],
      summaryOpen: false,
    };
    this.open = open;
    return open;
  }

  private closeSummary(r: OpenReasoning): void {
    if (!r.summaryOpen) return;
    r.summaryOpen = false;
    const summaryIndex = r.item.summary.length - 1;
    const text = r.item.summary[summaryIndex]?.text ?? '';
    const base = { item_id: r.item.id, output_index: r.index, summary_index: summaryIndex };
    this.emit('response.reasoning_summary_text.done', { ...base, text });
    this.emit('response.reasoning_summary_part.done', { ...base, part: { type: 'summary_text', text } });
  }

  private thought(text: string, sig: string | undefined): void {
    const r = this.openReasoning();
    if (text.length > 0) {
      if (!r.summaryOpen) {
        r.summaryOpen = true;
        r.blocks.push({ t: '' });
        r.item.summary.push({ type: 'summary_text', text: '' });
        this.emit('response.reasoning_summary_part.added', {
          item_id: r.item.id,
          output_index: r.index,
          summary_index: r.item.summary.length - 1,
          part: { type: 'summary_text', text: '' },
        });
      }
      const block = r.blocks[r.blocks.length - 1] as { t: string; s?: string };
      const summary = r.item.summary[r.item.summary.length - 1] as { text: string };
      block.t += text;
      summary.text += text;
      this.emit('response.reasoning_summary_text.delta', {
        item_id: r.item.id,
        output_index: r.index,
        summary_index: r.item.summary.length - 1,
        delta: text,
      });
    }
    if (sig !== undefined) {
      const last = r.blocks[r.blocks.length - 1];
      if (r.summaryOpen && last && last.s === undefined) last.s = sig;
      else r.blocks.push({ t: '', s: sig });
      this.closeSummary(r);
    }
  }

  /** Closes the open item; a signature of the part that follows rides on an open reasoning item. */
  private close(nextSignature?: string): void {
    const open = this.open;
    this.open = undefined;
    if (!open) return;
    if (open.kind === 'reasoning') {
      this.closeSummary(open);
      if (nextSignature !== undefined) open.next = nextSignature;
      const carrier: Carrier = { p: open.blocks, ...(open.next === undefined ? {} : { n: open.next }) };
      open.item.encrypted_content = encodeReasoningCarrier(carrier);
      this.emit('response.output_item.done', { output_index: open.index, item: structuredClone(open.item) });
      return;
    }
    const part: OutputTextPart = { type: 'output_text', text: open.text, annotations: [], logprobs: [] };
    const base = { item_id: open.item.id, output_index: open.index, content_index: 0 };
    this.emit('response.output_text.done', { ...base, text: open.text, logprobs: [] });
    this.emit('response.content_part.done', { ...base, part: structuredClone(part) });
    open.item.content = [part];
    open.item.status = 'completed';
    this.emit('response.output_item.done', { output_index: open.index, item: structuredClone(open.item) });
  }

  /**
   * Before a non-thought part: a signature on it goes on the open reasoning item (or, when the client
   * asked for encrypted content and there is none, on an empty reasoning item of its own).
   */
  private beforeAnswerPart(sig: string | undefined): void {
    if (this.open?.kind === 'reasoning') {
      this.close(sig);
      return;
    }
    this.close();
    if (sig !== undefined && this.req.includeEncrypted) {
      this.openReasoning();
      this.close(sig);
    }
  }

  part(p: GeminiPart): void {
    if (p.thought === true) {
      this.thought(p.text ?? '', p.thoughtSignature);
    } else if (p.functionCall) {
      this.beforeAnswerPart(p.thoughtSignature);
      this.call(p.functionCall.name, p.functionCall.args ?? {}, p.functionCall.id, p.thoughtSignature);
    } else if (typeof p.text === 'string') {
      if (p.text.length === 0 && p.thoughtSignature === undefined) return;
      if (this.open?.kind !== 'message') this.beforeAnswerPart(p.thoughtSignature);
      if (p.text.length > 0) this.text(p.text);
    }
  }

  private text(text: string): void {
    let open = this.open;
    if (open?.kind !== 'message') {
      this.close();
      const item: MessageItem = {
        id: this.id('msg'),
        type: 'message',
        role: 'assistant',
        status: 'in_progress',
        content: [],
      };
      open = { kind: 'message', item, index: this.add(item), text: '' };
      this.open = open;
      this.emit('response.content_part.added', {
        item_id: item.id,
        output_index: open.index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    }
    open.text += text;
    this.emit('response.output_text.delta', {
      item_id: open.item.id,
      output_index: open.index,
      content_index: 0,
      delta: text,
      logprobs: [],
    });
  }

  private call(
    name: string,
    args: Record<string, unknown>,
    upstreamId: string | undefined,
    sig: string | undefined,
  ): void {
    const ref = this.req.tools.get(name);
    const callId = stableToolCallId('call_', upstreamId, this.responseKey, this.calls++, name);
    if (sig !== undefined) this.signatures?.set(callId, sig);
    const ns = ref?.namespace === undefined ? {} : { namespace: ref.namespace };
    if (ref?.kind === 'custom') {
      const input = typeof args.input === 'string' ? args.input : JSON.stringify(args);
      const item: CustomToolCallItem = {
        id: this.id('ctc'),
        type: 'custom_tool_call',
        status: 'in_progress',
        call_id: callId,
        name: ref.name,
        ...ns,
        input: '',
      };
      const index = this.add(item);
      this.emit('response.custom_tool_call_input.delta', {
        item_id: item.id,
        output_index: index,
        delta: input,
      });
      this.emit('response.custom_tool_call_input.done', { item_id: item.id, output_index: index, input });
      item.input = input;
      item.status = 'completed';
      this.emit('response.output_item.done', { output_index: index, item: structuredClone(item) });
      return;
    }
    const argsText = JSON.stringify(args);
    const item: FunctionCallItem = {
      id: this.id('fc'),
      type: 'function_call',
      status: 'in_progress',
      call_id: callId,
      name: ref?.name ?? name,
      ...ns,
      arguments: '',
    };
    const index = this.add(item);
    this.emit('response.function_call_arguments.delta', {
      item_id: item.id,
      output_index: index,
      delta: argsText,
    });
    this.emit('response.function_call_arguments.done', {
      item_id: item.id,
      output_index: index,
      name: item.name,
      arguments: argsText,
    });
    item.arguments = argsText;
    item.status = 'completed';
    this.emit('response.output_item.done', { output_index: index, item: structuredClone(item) });
  }

  finish(): void {
    this.close();
  }

  /** Marks an unfinished message incomplete (the stream failed mid-answer); no events. */
  abandon(): void {
    const open = this.open;
    this.open = undefined;
    if (open?.kind === 'message') {
      open.item.content = [{ type: 'output_text', text: open.text, annotations: [], logprobs: [] }];
      open.item.status = 'incomplete';
    }
  }
}

function statusOf(kind: StopKind): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (kind === 'max_tokens')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (kind === 'safety') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

function responseId(key: string): string {
  return `resp_${key.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

function responseObject(
  id: string,
  req: ResponsesTranslatedRequest,
  opts: ResponsesOutputOptions,
  fields: Pick<ResponseObject, 'status' | 'incomplete_details' | 'output' | 'usage'> &
    Partial<Pick<ResponseObject, 'error' | 'completed_at'>>,
): ResponseObject {
  const { safety_identifier, ...echo } = req.echo;
  return {
    id,
    object: 'response',
    created_at: opts.created,
    completed_at: fields.completed_at ?? null,
    status: fields.status,
    background: false,
    error: fields.error ?? null,
    incomplete_details: fields.incomplete_details,
    model: opts.model,
    output: fields.output,
    safety_identifier,
    service_tier: 'default',
    store: opts.stored === true,
    truncation: 'disabled',
    usage: fields.usage,
    ...echo,
  };
}

/** A Gemini generateContent answer → a Responses `response` object. */
export function toResponsesObject(
  resp: GeminiResponse,
  req: ResponsesTranslatedRequest,
  opts: ResponsesOutputOptions,
): ResponseObject {
  const key = responseKeyOf(resp);
  const assembler = new OutputAssembler(key, req, opts.signatures, () => {});
  for (const part of firstCandidateParts(resp)) assembler.part(part);
  assembler.finish();
  const candidate = resp.candidates?.[0];
  const kind =
    resp.promptFeedback?.blockReason !== undefined && !candidate
      ? 'safety'
      : stopKindOf(candidate?.finishReason, assembler.calledTools);
  const response = responseObject(opts.id ?? responseId(key), req, opts, {
    ...statusOf(kind),
    output: assembler.output,
    usage: responsesUsage(normalizeUsage(resp.usageMetadata)),
    completed_at: opts.created,
  });
  opts.onDone?.(response);
  return response;
}

/** The Responses error code for an HTTP status (what `response.failed` and `error` events carry). */
export function responsesErrorCode(status: number): string {
  if (status === 429) return 'rate_limit_exceeded';
  // No account serves until a far reset: Codex stops on this code instead of retrying.
  if (status === 402) return 'insufficient_quota';
  if (status === 400 || status === 413) return 'invalid_prompt';
  return 'server_error';
}

/**
 * Gemini stream chunks → the `response.*` event sequence: `response.created`, `response.in_progress`,
 * then per output item `output_item.added`, its content events (reasoning summary parts and text,
 * content part and output text, function-call arguments or custom-tool input) and
 * `output_item.done`, and finally `response.completed` (or `response.incomplete`) with the whole
 * response and usage. A failure after the first byte ends with `error` and `response.failed`.
 * Every event carries its `sequence_number`.
 */
export class ResponsesStreamTranslator implements StreamTranslator {
  private seq = 0;
  private finished = false;
  private id = 'resp_stream';
  private assembler: OutputAssembler | undefined;
  private finishReason: string | undefined;
  private blocked = false;
  private lastUsage: NormalizedUsage | undefined;
  private out: ClientEvent[] = [];

  constructor(
    private readonly req: ResponsesTranslatedRequest,
    private readonly opts: ResponsesOutputOptions,
  ) {}

  get usage(): NormalizedUsage | undefined {
    return this.lastUsage;
  }

  private emit(type: string, payload: Record<string, unknown>): void {
    this.out.push({ event: type, data: JSON.stringify({ type, sequence_number: this.seq++, ...payload }) });
  }

  private snapshot(fields: Parameters<typeof responseObject>[3]): ResponseObject {
    return responseObject(this.id, this.req, this.opts, fields);
  }

  private start(chunk: GeminiResponse | undefined): OutputAssembler {
    if (this.assembler) return this.assembler;
    const key = chunk ? responseKeyOf(chunk) : 'stream';
    this.id = this.opts.id ?? responseId(key);
    this.assembler = new OutputAssembler(key, this.req, this.opts.signatures, (t, p) => this.emit(t, p));
    const initial = this.snapshot({
      status: 'in_progress',
      incomplete_details: null,
      output: [],
      usage: null,
    });
    this.emit('response.created', { response: initial });
    this.emit('response.in_progress', { response: initial });
    return this.assembler;
  }

  private drain(): ClientEvent[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  push(chunk: GeminiResponse): ClientEvent[] {
    if (this.finished) return [];
    const assembler = this.start(chunk);
    if (chunk.usageMetadata) this.lastUsage = normalizeUsage(chunk.usageMetadata);
    if (chunk.promptFeedback?.blockReason !== undefined) this.blocked = true;
    const candidate = chunk.candidates?.[0];
    if (candidate?.finishReason !== undefined) this.finishReason = candidate.finishReason;
    for (const part of candidate?.content?.parts ?? []) assembler.part(part);
    return this.drain();
  }

  end(): ClientEvent[] {
    if (this.finished) return [];
    const assembler = this.start(undefined);
    this.finished = true;
    assembler.finish();
    const kind =
      this.blocked && this.finishReason === undefined
        ? 'safety'
        : stopKindOf(this.finishReason, assembler.calledTools);
    const status = statusOf(kind);
    const response = this.snapshot({
      ...status,
      output: assembler.output,
      usage: responsesUsage(this.lastUsage ?? normalizeUsage(undefined)),
      completed_at: this.opts.created,
    });
    this.emit(status.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
    this.opts.onDone?.(response);
    return this.drain();
  }

  error(err: ClientErrorInfo): ClientEvent[] {
    if (this.finished) return [];
    const assembler = this.start(undefined);
    this.finished = true;
    assembler.abandon();
    const code = responsesErrorCode(err.status);
    this.emit('error', { code, message: err.message, param: err.param ?? null });
    this.emit('response.failed', {
      response: this.snapshot({
        status: 'failed',
        incomplete_details: null,
        error: { code, message: err.message },
        output: assembler.output,
        usage: this.lastUsage ? responsesUsage(this.lastUsage) : null,
      }),
    });
    return this.drain();
  }
}

/**
 * A stream that failed before this format's translator could report it: an `error` event (the
 * translator's own `error` adds `response.failed` with the response so far).
 */
export function responsesErrorEvents(err: ClientErrorInfo): ClientEvent[] {
  const data = {
    type: 'error',
    sequence_number: 0,
    code: responsesErrorCode(err.status),
    message: err.message,
    param: err.param ?? null,
  };
  return [{ event: 'error', data: JSON.stringify(data) }];
}

/** Bounds of the in-memory response store (what `previous_response_id` and `GET /v1/responses/{id}` read). */
export const RESPONSE_STORE_LIMITS = {
  maxResponses: 500,
  /** Total size of the stored conversations (JSON characters). */
  maxBytes: 32 * 1024 * 1024,
  /** Idle time after which a stored response is forgotten (refreshed on every use). */
  ttlMs: 60 * 60 * 1000,
  ttlText: '1 hour',
} as const;

/** One stored response: the whole conversation up to and including it, and the response object. */
export interface StoredResponse {
  items: ReadonlyArray<Record<string, unknown>>;
  response: ResponseObject;
}

/**
 * The Responses API codec. Errors before the stream starts use OpenAI's error body (the Responses
 * API answers HTTP errors in the same shape as Chat Completions). What the translator dropped or
 * approximated goes to `deps.debug`. Answers of requests without `store: false` are kept in a
 * bounded in-memory store (least recently used out first, by count and size, and after an idle
 * hour) for `previous_response_id` and `GET /v1/responses/{id}`.
 */
export function responsesCodec(deps: CodecDeps): ClientCodec<ResponsesTranslatedRequest> {
  const { signatures } = deps;
  const created = (): number => Math.floor(deps.now() / 1000);
  const store = new LruTtlMap<string, StoredResponse>(
    RESPONSE_STORE_LIMITS.maxResponses,
    RESPONSE_STORE_LIMITS.ttlMs,
    deps.now,
    { max: RESPONSE_STORE_LIMITS.maxBytes, of: (v) => JSON.stringify(v).length },
  );
  const output = (model: string, t: ResponsesTranslatedRequest): ResponsesOutputOptions => {
    const id = `resp_${randomUUID().replace(/-/g, '')}`;
    return {
      model,
      created: created(),
      signatures,
      id,
      stored: t.store,
      onDone: (response) => {
        if (t.store)
          store.set(id, { items: [...t.input, ...response.output.map((o) => ({ ...o }))], response });
      },
    };
  };
  return {
    format: 'responses',
    parse: (body) => {
      const t = translateResponsesRequest(body, {
        signatures,
        history: (id) => store.get(id)?.items,
        retention: RESPONSE_STORE_LIMITS.ttlText,
      });
      if (t.notes.length > 0) deps.debug?.(`responses: ${t.notes.join('; ')}`);
      return t;
    },
    model: (t) => t.model,
    stream: (t) => t.stream,
    sessionKey: (t, headers) => sessionKeyWithHeader(t.sessionKey, headers),
    toGemini: (t) => t.request,
    fromGemini: (res, model, t) => toResponsesObject(res, t, output(model, t)),
    encoder: (model, t) => new ResponsesStreamTranslator(t, output(model, t)),
    errorBody: openAiErrorBody,
    errorEvents: responsesErrorEvents,
    stored: {
      get: (id) => store.get(id)?.response,
      delete: (id) => store.delete(id),
    },
  };
}

/**
 * Anthropic Messages ⇄ Gemini: the request (as current clients send it: `system`-role messages in
 * `messages`, every content block type, structured output, effort and thinking settings) and its
 * translation, the message answer, the streaming event sequence, count_tokens, the models list and
 * the error shapes.
 *
 * Request translation, in short:
 * - `system` (top level) and `system`-role messages before the first user or assistant message form
 *   the system instruction. A `system`-role message later in the conversation stays where it is, as
 *   a `<system>` note in the user turn at that point: moving it into the system instruction would
 *   change what the model reads before the history it refers to, and would change the cached prefix
 *   on every turn. One with `clear_at: "next_user_message"` is left out once a later user message
 *   exists (the API stops showing it then). Its `output_config.effort` applies to the turn.
 * - Blocks the upstream has a part for are translated (text, images and PDFs inline or by URL, plain
 *   text and content documents, thinking with its signature, tool_use / tool_result with nested text,
 *   images, documents and search results). Blocks that record what Anthropic's servers did (server
 *   tool calls and their results, MCP calls, compaction summaries, search results) become text, so the
 *   model still reads them. Blocks that carry nothing the upstream can use (redacted_thinking,
 *   container_upload, unknown types) are dropped; each drop or mapping is recorded in `notes`.
 * - `output_config.format` (and the beta `output_format`) becomes `responseMimeType` +
 *   `responseSchema`; tool schemas go through schema.ts; `strict` tools ask for validated calls.
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
  GeminiFunctionDeclaration,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
  GeminiResponse,
  GeminiThinkingConfig,
  GeminiToolConfig,
} from '../../upstream/gemini/schema';
import {
  type ClientErrorInfo,
  type ClientEvent,
  type NormalizedUsage,
  type SignatureStore,
  type StopKind,
  type StreamTranslator,
  deriveSessionKey,
  normalizeUsage,
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
import { toUpstreamParameters, toUpstreamResponseSchema } from './schema';

// ---------------------------------------------------------------------------------------------
// Validation with Anthropic's wording

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

function quoteList(values: readonly unknown[]): string {
  const q = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

const EXPECTED_WORDS: Readonly<Record<string, string>> = {
  string: 'a valid string',
  number: 'a valid number',
  int: 'a valid integer',
  boolean: 'a valid boolean',
  array: 'a valid list',
  object: 'a valid dictionary',
  record: 'a valid dictionary',
};

/** One zod issue in the words Anthropic's API uses (`Field required`, `Input should be …`). */
function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) return 'Field required';
      return `Input should be ${EXPECTED_WORDS[issue.expected] ?? `a valid ${issue.expected}`}`;
    case 'invalid_value':
      return `Input should be ${quoteList(issue.values)}`;
    case 'too_small':
      if (issue.origin === 'array') {
        return `List should have at least ${String(issue.minimum)} item${Number(issue.minimum) === 1 ? '' : 's'} after validation`;
      }
      if (issue.origin === 'string') return `String should have at least ${String(issue.minimum)} character`;
      return `Input should be greater than${issue.inclusive ? ' or equal to' : ''} ${String(issue.minimum)}`;
    case 'too_big':
      return `Input should be less than${issue.inclusive ? ' or equal to' : ''} ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

/** The issue to report: inside a union, the branch that got furthest. */
function deepestIssue(
  issue: z.core.$ZodIssue,
  base: readonly PropertyKey[],
): { path: PropertyKey[]; issue: z.core.$ZodIssue } {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    let best: { path: PropertyKey[]; issue: z.core.$ZodIssue } | undefined;
    for (const branch of issue.errors) {
      const first = branch[0];
      if (!first) continue;
      const flat = deepestIssue(first, path);
      if (!best || flat.path.length > best.path.length) best = flat;
    }
    if (best && best.path.length > path.length) return best;
  }
  return { path, issue };
}

/**
 * Parses with `schema` or throws a 400 worded like Anthropic's own: `field.path: Field required`.
 * `at` is the path of `value` in the request body.
 */
function parseAt<S extends z.ZodType>(
  schema: S,
  value: unknown,
  at: readonly PropertyKey[] = [],
): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  if (!first)
    throw new RequestValidationError(`${pathOf(at) || 'body'}: Invalid request`, pathOf(at) || '(body)');
  const { path, issue } = deepestIssue(first, at);
  const field = pathOf(path) || '(body)';
  throw new RequestValidationError(`${pathOf(path) || 'body'}: ${issueText(issue)}`, field);
}

// ---------------------------------------------------------------------------------------------
// Request schema (the `@anthropic-ai/sdk` MessageCreateParams, beta fields included)

const TextBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string() });
const Base64Source = z.looseObject({
  type: z.literal('base64'),
  media_type: z.string().min(1),
  data: z.string(),
});
const UrlSource = z.looseObject({ type: z.literal('url'), url: z.string().min(1) });
const FileSource = z.looseObject({ type: z.literal('file'), file_id: z.string() });
const ImageBlockSchema = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [Base64Source, UrlSource, FileSource]),
});
const ContentSourceItem = z.discriminatedUnion('type', [TextBlockSchema, ImageBlockSchema]);
const DocumentBlockSchema = z.looseObject({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    Base64Source,
    z.looseObject({ type: z.literal('text'), media_type: z.string().optional(), data: z.string() }),
    z.looseObject({ type: z.literal('content'), content: z.union([z.string(), z.array(ContentSourceItem)]) }),
    UrlSource,
    FileSource,
  ]),
  title: z.string().nullish(),
  context: z.string().nullish(),
});
const SearchResultBlockSchema = z.looseObject({
  type: z.literal('search_result'),
  source: z.string(),
  title: z.string(),
  content: z.array(TextBlockSchema),
});
const ToolUseBlockSchema = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
/** A block inside tool_result content; unknown kinds are checked only for their `type`. */
const AnyBlockSchema = z.looseObject({ type: z.string() });
const ToolResultBlockSchema = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(AnyBlockSchema)]).nullish(),
  is_error: z.boolean().nullish(),
});
const ThinkingBlockSchema = z.looseObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().optional(),
});
const ServerToolUseSchema = z.looseObject({
  type: z.enum(['server_tool_use', 'mcp_tool_use']),
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
  server_name: z.string().optional(),
});
const ServerToolResultSchema = z.looseObject({
  type: z.string(),
  tool_use_id: z.string().optional(),
  content: z.unknown(),
  is_error: z.boolean().nullish(),
});

const MessageSchema = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(AnyBlockSchema)]).nullish(),
  clear_at: z.string().nullish(),
  output_config: z.looseObject({ effort: z.string().nullish() }).nullish(),
});
type Message = z.infer<typeof MessageSchema>;

const ToolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().nullish(),
  input_schema: z.unknown().optional(),
  /** Absent or "custom" for client tools; Anthropic-defined tools carry their own type. */
  type: z.string().nullish(),
  strict: z.boolean().nullish(),
  defer_loading: z.boolean().nullish(),
});
type Tool = z.infer<typeof ToolSchema>;

const ToolChoiceSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({
    type: z.literal('tool'),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({ type: z.literal('none') }),
]);

const ThinkingParamSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('enabled'),
    budget_tokens: z.number().int().min(0),
    display: z.string().nullish(),
  }),
  z.looseObject({ type: z.literal('disabled') }),
  z.looseObject({ type: z.literal('adaptive'), display: z.string().nullish() }),
  z.looseObject({ type: z.literal('between_tools') }),
]);

const OutputFormatSchema = z.looseObject({ type: z.literal('json_schema'), schema: z.unknown() });
const OutputConfigSchema = z.looseObject({
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish(),
  format: OutputFormatSchema.nullish(),
});

const PromptFields = {
  model: z.string().min(1),
  system: z.union([z.string(), z.array(TextBlockSchema)]).optional(),
  messages: z.array(MessageSchema).min(1),
  tools: z.array(ToolSchema).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  thinking: ThinkingParamSchema.optional(),
  output_config: OutputConfigSchema.optional(),
  output_format: OutputFormatSchema.nullish(),
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

/** Request fields the upstream has no counterpart for: accepted, noted, not forwarded. */
const IGNORED_FIELDS: Readonly<Record<string, string>> = {
  cache_control: 'prompt caching is automatic upstream',
  container: 'no code-execution container upstream',
  context_management: 'context editing is not available upstream; the full history is sent',
  mcp_servers: 'the upstream cannot reach MCP servers; their tools are not offered',
  service_tier: 'no service tiers upstream',
  speed: 'no speed modes upstream',
  inference_geo: 'no region choice upstream',
  diagnostics: 'no cache diagnostics upstream',
  thread: 'no server-held threads; send the full conversation',
  compaction: 'no server-side compaction upstream',
  fallbacks: 'no server-side fallbacks upstream',
  betas: 'beta flags do not apply upstream',
};

// ---------------------------------------------------------------------------------------------
// Request translation

/** Anthropic-defined tools the client runs itself, declared to the upstream with their documented input. */
const CLIENT_RUN_TOOLS: ReadonlyArray<{
  prefix: string;
  description: string;
  schema: Record<string, unknown>;
}> = [
  {
    prefix: 'bash_',
    description: 'Run a shell command in a persistent bash session.',
    schema: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command to run.' },
        restart: { type: 'boolean', description: 'Restart the session instead of running a command.' },
      },
    },
  },
  {
    prefix: 'text_editor_',
    description: 'View, create and edit files.',
    schema: {
      type: 'object',
      properties: {
        command: { type: 'string', enum: ['view', 'create', 'str_replace', 'insert', 'undo_edit'] },
        path: { type: 'string' },
        file_text: { type: 'string' },
        old_str: { type: 'string' },
        new_str: { type: 'string' },
        insert_line: { type: 'integer' },
        view_range: { type: 'array', items: { type: 'integer' } },
      },
      required: ['command', 'path'],
    },
  },
];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function textOf(
  content: string | ReadonlyArray<{ type: string; text?: unknown }> | null | undefined,
): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .filter((t) => t.length > 0)
    .join('\n');
}

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
};

/** A file the upstream fetches itself (Gemini `fileData`); the type comes from the URL's extension. */
function urlPart(url: string, fallbackMime: string): GeminiPart {
  let ext = '';
  try {
    ext = new URL(url).pathname.split('.').pop()?.toLowerCase() ?? '';
  } catch {
    // not a URL the extension can be read from
  }
  return { fileData: { mimeType: MIME_BY_EXTENSION[ext] ?? fallbackMime, fileUri: url } };
}

function fileIdUnsupported(field: string): RequestValidationError {
  return new RequestValidationError(
    `${field}: file sources (Files API ids) cannot be used through Quota Pilot, which has no access to Anthropic's file storage; send the file as a base64 or URL source.`,
    field,
  );
}

/** An image block → one part. */
function imagePart(b: z.infer<typeof ImageBlockSchema>, field: string): GeminiPart {
  const s = b.source;
  if (s.type === 'base64') return { inlineData: { mimeType: s.media_type, data: s.data } };
  if (s.type === 'url') return urlPart(s.url, 'image/jpeg');
  throw fileIdUnsupported(`${field}.source`);
}

/** A document block → parts (inline PDF, a PDF by URL, or its text with its title and context). */
function documentParts(b: z.infer<typeof DocumentBlockSchema>, field: string): GeminiPart[] {
  const header = [b.title ? `Document: ${b.title}` : '', b.context ? `Context: ${b.context}` : '']
    .filter((l) => l.length > 0)
    .join('\n');
  const withHeader = (parts: GeminiPart[]): GeminiPart[] => (header ? [{ text: header }, ...parts] : parts);
  const s = b.source;
  switch (s.type) {
    case 'base64':
      return withHeader([{ inlineData: { mimeType: s.media_type, data: s.data } }]);
    case 'url':
      return withHeader([urlPart(s.url, 'application/pdf')]);
    case 'text':
      return [{ text: header ? `${header}\n\n${s.data}` : s.data }];
    case 'content': {
      if (typeof s.content === 'string') return [{ text: header ? `${header}\n\n${s.content}` : s.content }];
      const parts = s.content.map((c, k) =>
        c.type === 'text' ? { text: c.text } : imagePart(c, `${field}.source.content.${k}`),
      );
      return withHeader(parts);
    }
    case 'file':
      throw fileIdUnsupported(`${field}.source`);
  }
}

function searchResultText(b: z.infer<typeof SearchResultBlockSchema>): string {
  return `Search result: ${b.title}\nSource: ${b.source}\n${textOf(b.content)}`;
}

/** A compact, readable rendering of what a server tool returned. */
function describeServerResult(value: unknown, depth = 0): string {
  if (depth > 4) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    return value
      .map((v) => describeServerResult(v, depth + 1))
      .filter((s) => s.length > 0)
      .join('\n');
  }
  if (!isRecord(value)) return value === undefined || value === null ? '' : JSON.stringify(value);
  const type = str(value.type) ?? '';
  if (type === 'text') return str(value.text) ?? '';
  if (type === 'web_search_result') return `- ${str(value.title) ?? ''} (${str(value.url) ?? ''})`;
  if (type.endsWith('_error') || value.error_code !== undefined)
    return `error: ${str(value.error_code) ?? 'unknown'}`;
  if (type === 'web_fetch_result') {
    return `Fetched ${str(value.url) ?? ''}:\n${describeServerResult(value.content, depth + 1)}`;
  }
  if (type === 'document' && isRecord(value.source)) {
    const src = value.source;
    if (src.type === 'text') return str(src.data) ?? '';
    return `[${str(src.media_type) ?? 'binary'} document]`;
  }
  if ('stdout' in value || 'return_code' in value) {
    const parts = [`exit code ${String(value.return_code ?? '?')}`];
    const out = str(value.stdout) ?? (value.encrypted_stdout !== undefined ? '(encrypted output)' : '');
    if (out) parts.push(`stdout:\n${out}`);
    if (str(value.stderr)) parts.push(`stderr:\n${String(value.stderr)}`);
    return parts.join('\n');
  }
  if (Array.isArray(value.tool_references)) {
    return `tools found: ${value.tool_references.map((r) => (isRecord(r) ? str(r.tool_name) : '')).join(', ')}`;
  }
  if ('content' in value) return describeServerResult(value.content, depth + 1);
  return JSON.stringify(value);
}

interface PromptParts {
  system: string[];
  contents: GeminiContent[];
  firstUserText: string | undefined;
  tools: GeminiRequest['tools'];
  toolConfig: GeminiToolConfig | undefined;
  /** `output_config.effort` of the last system message that set one. */
  effort: string | undefined;
  notes: string[];
}

interface TurnState {
  role: 'user' | 'model';
  parts: GeminiPart[];
  /** A signature of an empty thinking block belongs to the next part (see the file comment). */
  carried: string | undefined;
}

/** Tool declarations, with the additions and removals system messages make along the way. */
class ToolSet {
  readonly byName = new Map<string, GeminiFunctionDeclaration>();
  strict = false;

  constructor(private readonly notes: string[]) {}

  add(t: Tool, field: string): void {
    const type = t.type ?? 'custom';
    if (type === 'custom') {
      if (t.strict === true) this.strict = true;
      if (t.defer_loading === true) this.notes.push(`${field}: deferred tool "${t.name}" declared up front`);
      this.byName.set(t.name, {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        parameters: toUpstreamParameters(t.input_schema, `${field}.input_schema`),
      });
      return;
    }
    const known = CLIENT_RUN_TOOLS.find((k) => type.startsWith(k.prefix));
    if (known) {
      this.byName.set(t.name, {
        name: t.name,
        description: known.description,
        parameters: toUpstreamParameters(known.schema, `${field}`),
      });
      return;
    }
    this.notes.push(`${field}: Anthropic server tool "${type}" dropped (the upstream cannot run it)`);
  }
}

function translatePrompt(
  req: AnthropicCountTokensRequest,
  signatures: SignatureStore | undefined,
): PromptParts {
  const notes: string[] = [];
  const system: string[] = [];
  if (typeof req.system === 'string') {
    if (req.system.length > 0) system.push(req.system);
  } else if (req.system) {
    for (const b of req.system) if (b.text.length > 0) system.push(b.text);
  }
  const toolSet = new ToolSet(notes);
  (req.tools ?? []).forEach((t, i) => toolSet.add(t, `tools.${i}`));

  const contents: GeminiContent[] = [];
  const toolNames = new Map<string, string>();
  let firstUserText: string | undefined;
  let effort: string | undefined;
  const lastUser = req.messages.map((m) => m.role).lastIndexOf('user');
  let conversationStarted = false;

  const pushTurn = (turn: TurnState): void => {
    if (turn.carried !== undefined)
      turn.parts.push({ text: '', thought: true, thoughtSignature: turn.carried });
    if (turn.parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === turn.role) last.parts.push(...turn.parts);
    else contents.push({ role: turn.role, parts: turn.parts });
  };

  req.messages.forEach((msg, i) => {
    if (msg.role === 'system') {
      const text = systemMessage(msg, i, lastUser, toolSet, notes);
      if (msg.output_config?.effort) effort = msg.output_config.effort;
      if (text === undefined) return;
      if (!conversationStarted) system.push(text);
      else pushTurn({ role: 'user', parts: [{ text: `<system>\n${text}\n</system>` }], carried: undefined });
      return;
    }
    conversationStarted = true;
    const speaker = msg.role;
    const role = speaker === 'assistant' ? 'model' : 'user';
    if (msg.role === 'user' && firstUserText === undefined) firstUserText = textOf(msg.content);
    const turn: TurnState = { role, parts: [], carried: undefined };
    const blocks =
      typeof msg.content === 'string' ? [{ type: 'text', text: msg.content }] : (msg.content ?? []);
    blocks.forEach((raw, j) => {
      translateBlock(raw, ['messages', i, 'content', j], speaker, turn, { toolNames, signatures, notes });
    });
    pushTurn(turn);
  });

  // Function responses first in a user turn (a note or text after a tool result must not split them
  // from the calls they answer).
  for (const c of contents) {
    if (c.role !== 'user') continue;
    const responses = c.parts.filter((p) => p.functionResponse !== undefined);
    if (responses.length > 0 && responses.length < c.parts.length) {
      c.parts = [...responses, ...c.parts.filter((p) => p.functionResponse === undefined)];
    }
  }

  if (contents.length === 0) {
    throw new RequestValidationError(
      'messages: all messages must have non-empty content; send at least one user message with text.',
      'messages',
    );
  }

  const declarations = [...toolSet.byName.values()];
  const tools: GeminiRequest['tools'] =
    declarations.length > 0 ? [{ functionDeclarations: declarations }] : undefined;

  let toolConfig: GeminiToolConfig | undefined;
  const choice = req.tool_choice;
  if (choice && 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) {
    notes.push(
      'tool_choice.disable_parallel_tool_use: not available upstream; the model may call several tools',
    );
  }
  switch (choice?.type) {
    case 'any':
      toolConfig = { functionCallingConfig: { mode: 'ANY' } };
      break;
    case 'none':
      toolConfig = { functionCallingConfig: { mode: 'NONE' } };
      break;
    case 'tool':
      toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
      break;
    default:
      // auto (or absent): strict tools ask the upstream to validate calls against their schemas.
      if (toolSet.strict && tools) toolConfig = { functionCallingConfig: { mode: 'VALIDATED' } };
      else if (choice?.type === 'auto') toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
      break;
  }
  return { system, contents, firstUserText, tools, toolConfig, effort, notes };
}

/**
 * A `system`-role message → its text (undefined when the model should not see it), after applying
 * its tool additions and removals.
 */
function systemMessage(
  msg: Message,
  i: number,
  lastUser: number,
  toolSet: ToolSet,
  notes: string[],
): string | undefined {
  if (msg.clear_at === 'next_user_message' && lastUser > i) {
    notes.push(`messages.${i}: system message cleared by a later user message`);
    return undefined;
  }
  const texts: string[] = [];
  const blocks =
    typeof msg.content === 'string' ? [{ type: 'text', text: msg.content }] : (msg.content ?? []);
  blocks.forEach((raw, j) => {
    const field = `messages.${i}.content.${j}`;
    if (raw.type === 'text') {
      const b = parseAt(TextBlockSchema, raw, ['messages', i, 'content', j]);
      if (b.text.length > 0) texts.push(b.text);
      return;
    }
    const tool = isRecord(raw.tool) ? raw.tool : undefined;
    if (raw.type === 'tool_addition' && tool) {
      const def = isRecord(tool.definition) ? tool.definition : undefined;
      if (def)
        toolSet.add(
          parseAt(ToolSchema, def, ['messages', i, 'content', j, 'tool', 'definition']),
          `${field}.tool.definition`,
        );
      const name = str(def?.name) ?? str(tool.name) ?? str(tool.tool_name);
      if (name) texts.push(`The tool "${name}" is available from now on.`);
      return;
    }
    if (raw.type === 'tool_removal' && tool) {
      const name = str(tool.name) ?? str(tool.tool_name);
      if (name) {
        toolSet.byName.delete(name);
        texts.push(`The tool "${name}" is no longer available; do not call it.`);
      }
      return;
    }
    notes.push(`${field}: "${raw.type}" block in a system message dropped`);
  });
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}

interface BlockContext {
  toolNames: Map<string, string>;
  signatures: SignatureStore | undefined;
  notes: string[];
}

function translateBlock(
  raw: { type: string; [k: string]: unknown },
  at: readonly PropertyKey[],
  role: 'user' | 'assistant',
  turn: TurnState,
  ctx: BlockContext,
): void {
  const field = pathOf(at);
  const parts = turn.parts;
  const push = (p: GeminiPart): void => {
    if (turn.carried !== undefined && p.thoughtSignature === undefined) p.thoughtSignature = turn.carried;
    turn.carried = undefined;
    parts.push(p);
  };
  switch (raw.type) {
    case 'text': {
      const b = parseAt(TextBlockSchema, raw, at);
      if (b.text.length > 0) push({ text: b.text });
      return;
    }
    case 'image':
      parts.push(imagePart(parseAt(ImageBlockSchema, raw, at), field));
      return;
    case 'document':
      parts.push(...documentParts(parseAt(DocumentBlockSchema, raw, at), field));
      return;
    case 'search_result':
      parts.push({ text: searchResultText(parseAt(SearchResultBlockSchema, raw, at)) });
      return;
    case 'thinking': {
      const b = parseAt(ThinkingBlockSchema, raw, at);
      if (b.thinking.length === 0) {
        if (b.signature) turn.carried = b.signature;
      } else {
        parts.push({
          text: b.thinking,
          thought: true,
          ...(b.signature ? { thoughtSignature: b.signature } : {}),
        });
      }
      return;
    }
    case 'redacted_thinking':
      ctx.notes.push(`${field}: redacted_thinking dropped (the upstream has no encrypted-thinking part)`);
      return;
    case 'tool_use': {
      const b = parseAt(ToolUseBlockSchema, raw, at);
      if (role !== 'assistant') {
        throw new RequestValidationError(
          `${field}: tool_use blocks can only appear in assistant messages; move it to the assistant turn.`,
          field,
        );
      }
      ctx.toolNames.set(b.id, b.name);
      const part: GeminiPart = { functionCall: { name: b.name, args: b.input, id: b.id } };
      const stored = ctx.signatures?.get(b.id);
      if (stored !== undefined) {
        part.thoughtSignature = stored;
        // Do not send the same signature twice: it belongs to the call, not the thought before it.
        for (const p of parts)
          if (p.thought === true && p.thoughtSignature === stored) delete p.thoughtSignature;
        if (turn.carried === stored) turn.carried = undefined;
      }
      push(part);
      return;
    }
    case 'tool_result': {
      const b = parseAt(ToolResultBlockSchema, raw, at);
      const name = ctx.toolNames.get(b.tool_use_id);
      if (name === undefined) {
        throw new RequestValidationError(
          `${field}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${b.tool_use_id}. ` +
            'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
          `${field}.tool_use_id`,
        );
      }
      const texts: string[] = [];
      const media: GeminiPart[] = [];
      const content = typeof b.content === 'string' ? [{ type: 'text', text: b.content }] : (b.content ?? []);
      content.forEach((c, k) => {
        const cAt = [...at, 'content', k];
        const cField = pathOf(cAt);
        switch (c.type) {
          case 'text':
            texts.push(parseAt(TextBlockSchema, c, cAt).text);
            break;
          case 'image':
            media.push(imagePart(parseAt(ImageBlockSchema, c, cAt), cField));
            break;
          case 'document': {
            const d = documentParts(parseAt(DocumentBlockSchema, c, cAt), cField);
            // A text document reads as part of the result; media follow the response.
            for (const p of d) if (p.text !== undefined) texts.push(p.text);
            media.push(...d.filter((p) => p.text === undefined));
            break;
          }
          case 'search_result':
            texts.push(searchResultText(parseAt(SearchResultBlockSchema, c, cAt)));
            break;
          case 'tool_reference':
            texts.push(`Tool available: ${str(c.tool_name) ?? ''}`);
            break;
          default:
            ctx.notes.push(`${cField}: "${c.type}" block in a tool result dropped`);
        }
      });
      parts.push({
        functionResponse: {
          name,
          response: toolResultObject(texts.join('\n'), b.is_error === true),
          id: b.tool_use_id,
        },
      });
      parts.push(...media);
      return;
    }
    case 'server_tool_use':
    case 'mcp_tool_use': {
      const b = parseAt(ServerToolUseSchema, raw, at);
      const where = b.server_name ? ` on MCP server "${b.server_name}"` : '';
      push({
        text: `[${b.type === 'mcp_tool_use' ? 'MCP tool' : 'server tool'} ${b.name}${where} called with ${JSON.stringify(b.input ?? {})}]`,
      });
      ctx.notes.push(`${field}: ${b.type} kept as text`);
      return;
    }
    case 'compaction': {
      const summary = str(raw.content);
      if (summary) push({ text: `Summary of the earlier conversation:\n${summary}` });
      else ctx.notes.push(`${field}: empty compaction block dropped`);
      return;
    }
    case 'container_upload':
    case 'fallback':
    case 'mcp_tool_listing':
      ctx.notes.push(`${field}: ${raw.type} block dropped (nothing the upstream can use)`);
      return;
    default: {
      // Results of server tools (web search, web fetch, code execution, tool search, MCP, advisor…).
      if (raw.type.endsWith('_tool_result') || raw.type === 'mcp_tool_result') {
        const b = parseAt(ServerToolResultSchema, raw, at);
        const body = describeServerResult(b.content);
        push({ text: `[${b.type}${b.is_error === true ? ' (error)' : ''}]\n${body}` });
        ctx.notes.push(`${field}: ${b.type} kept as text`);
        return;
      }
      ctx.notes.push(`${field}: unknown block type "${raw.type}" dropped`);
    }
  }
}

/** `output_config.effort` → a thinking budget (tokens), as OpenAI's reasoning efforts map. */
const EFFORT_BUDGETS: Readonly<Record<string, number>> = {
  low: 2048,
  medium: 8192,
  high: 24_576,
  xhigh: 32_768,
  max: 32_768,
};

function thinkingConfigOf(
  req: AnthropicCountTokensRequest,
  maxTokens: number,
  effort: string | undefined,
): GeminiThinkingConfig | undefined {
  const t = req.thinking;
  const display = t && 'display' in t ? t.display : undefined;
  const includeThoughts = display !== 'omitted';
  if (t?.type === 'enabled') {
    // The budget must stay below max_tokens; clamp rather than fail (count_tokens bodies borrow
    // this path with a placeholder max_tokens).
    const budget = Math.min(t.budget_tokens, maxTokens - 1);
    return budget > 0 ? { includeThoughts, thinkingBudget: budget } : undefined;
  }
  if (t?.type === 'adaptive' || t?.type === 'between_tools') {
    const byEffort = effort === undefined ? undefined : EFFORT_BUDGETS[effort];
    return {
      includeThoughts,
      thinkingBudget: byEffort === undefined ? -1 : Math.max(1, Math.min(byEffort, maxTokens - 1)),
    };
  }
  return undefined;
}

function assembleRequest(p: PromptParts): GeminiRequest {
  const request: GeminiRequest = { contents: p.contents };
  if (p.system.length > 0) request.systemInstruction = { parts: p.system.map((text) => ({ text })) };
  if (p.tools) request.tools = p.tools;
  if (p.toolConfig) request.toolConfig = p.toolConfig;
  return request;
}

/** What the translation of an Anthropic request adds: what it dropped or mapped, for the debug log. */
export interface AnthropicTranslatedRequest extends TranslatedRequest {
  notes: string[];
}

/** Validates an Anthropic /v1/messages body and translates it into a Gemini request. */
export function translateAnthropicRequest(
  body: unknown,
  opts: TranslateOptions = {},
): AnthropicTranslatedRequest {
  const req = parseAt(AnthropicMessagesRequestSchema, body);
  const prompt = translatePrompt(req, opts.signatures);
  const request = assembleRequest(prompt);
  const notes = prompt.notes;
  const gen: GeminiGenerationConfig = { maxOutputTokens: req.max_tokens };
  if (req.temperature !== undefined) gen.temperature = req.temperature;
  if (req.top_p !== undefined) gen.topP = req.top_p;
  if (req.top_k !== undefined) gen.topK = req.top_k;
  if (req.stop_sequences && req.stop_sequences.length > 0) gen.stopSequences = req.stop_sequences;
  const effort = prompt.effort ?? req.output_config?.effort ?? undefined;
  const thinking = thinkingConfigOf(req, req.max_tokens, effort);
  if (thinking) gen.thinkingConfig = thinking;
  else if (effort !== undefined) notes.push(`output_config.effort "${effort}" ignored (thinking is off)`);
  const format = req.output_config?.format ?? req.output_format ?? undefined;
  if (format) {
    gen.responseMimeType = 'application/json';
    const path = req.output_config?.format ? 'output_config.format.schema' : 'output_format.schema';
    const schema = toUpstreamResponseSchema(format.schema, path);
    if (schema !== undefined) gen.responseSchema = schema;
  }
  for (const [key, why] of Object.entries(IGNORED_FIELDS)) {
    const v = (req as Record<string, unknown>)[key];
    if (v !== undefined && v !== null) notes.push(`${key} ignored: ${why}`);
  }
  request.generationConfig = gen;
  return {
    model: req.model,
    request,
    stream: req.stream === true,
    sessionKey: deriveSessionKey({
      clientId: req.metadata?.user_id ?? undefined,
      system: prompt.system.join('\n'),
      firstUserText: prompt.firstUserText,
    }),
    notes,
  };
}

/** Validates a /v1/messages/count_tokens body and translates it into the Gemini request to count. */
export function translateAnthropicCountTokens(
  body: unknown,
  opts: TranslateOptions = {},
): { model: string; request: GeminiRequest } {
  const req = parseAt(AnthropicCountTokensRequestSchema, body);
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
  // Anthropic's type for 402; here: no account has quota until a reset far away (see quotaAnswer.ts).
  402: 'billing_error',
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
export function anthropicCodec(deps: CodecDeps): ClientCodec<AnthropicTranslatedRequest> {
  const { signatures } = deps;
  return {
    format: 'anthropic',
    parse: (body) => {
      const t = translateAnthropicRequest(body, { signatures });
      if (t.notes.length > 0) deps.debug?.(`anthropic: ${t.notes.join('; ')}`);
      return t;
    },
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

/**
 * What the three client-format translators share: SSE frames, validation errors that name the field,
 * stable tool-call ids, cleaning JSON schemas for Gemini function declarations, finish-reason and
 * token-usage normalisation, a thought-signature cache, and the session key of a conversation.
 *
 * Pure functions and small in-memory structures only: no I/O, no timers.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type {
  GeminiPart,
  GeminiRequest,
  GeminiResponse,
  GeminiUsageMetadata,
} from '../../upstream/gemini/schema';

/** One server-sent-events frame for the client: `event:` (optional) and one JSON (or sentinel) `data:`. */
export interface ClientEvent {
  event?: string;
  data: string;
}

/** Serialises a frame as it goes on the wire. `data` never holds a newline (it is compact JSON). */
export function formatSse(ev: ClientEvent): string {
  return `${ev.event === undefined ? '' : `event: ${ev.event}\n`}data: ${ev.data}\n\n`;
}

/** An error to report to the client, in any of the three formats. */
export interface ClientErrorInfo {
  /** HTTP status the error corresponds to (400, 401, 403, 404, 429, 500, 503, …). */
  status: number;
  message: string;
  /** The request field at fault, when there is one (OpenAI `param`). */
  param?: string;
}

/** What every stream translator offers the server: Gemini chunks in, client SSE frames out. */
export interface StreamTranslator {
  push(chunk: GeminiResponse): ClientEvent[];
  /** The upstream stream ended normally: closing frames (finish reason, usage, sentinel). */
  end(): ClientEvent[];
  /** The upstream failed after the first byte: frames that report it in the client's format. */
  error(err: ClientErrorInfo): ClientEvent[];
  /** Token usage seen so far (the last usageMetadata), for the ledger. */
  readonly usage: NormalizedUsage | undefined;
}

/**
 * A request body the translator cannot accept. `field` is the dotted path of the offending field,
 * so the server can answer 400 in the client's own format naming it.
 */
export class RequestValidationError extends Error {
  readonly status = 400;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'RequestValidationError';
  }

  toClientError(): ClientErrorInfo {
    return { status: 400, message: this.message, param: this.field };
  }
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.length === 0 ? '(body)' : path.map(String).join('.');
}

interface FlatIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * A union failure says only "Invalid input" at the union's path; look inside for the branch that got
 * furthest (the deepest issue) so the error names the field that is really wrong.
 */
function flattenIssue(issue: z.core.$ZodIssue, base: readonly PropertyKey[]): FlatIssue {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    let best: FlatIssue | undefined;
    for (const branch of issue.errors) {
      const first = branch[0];
      if (!first) continue;
      const flat = flattenIssue(first, path);
      if (!best || flat.path.length > best.path.length) best = flat;
    }
    if (best && best.path.length > path.length) return best;
  }
  return { path, message: issue.message };
}

/** Parses `body` with `schema`, or throws a RequestValidationError naming the first bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => flattenIssue(i, []));
  const first = issues[0];
  const field = first ? pathOf(first.path) : '(body)';
  const detail = issues
    .slice(0, 3)
    .map((i) => `${pathOf(i.path)}: ${i.message}`)
    .join('; ');
  throw new RequestValidationError(
    `Invalid ${what}: ${detail}. Fix the field${issues.length > 1 ? 's' : ''} named and send the request again.`,
    field,
  );
}

/** Hex SHA-256 of `text` (ids and keys derived from content). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A tool-call id that is the same every time the same response is translated (so a retried or
 * re-read answer keeps its ids): the upstream id when present, else one derived from the response
 * id, the call's position and its name.
 */
export function stableToolCallId(
  prefix: 'call_' | 'toolu_',
  upstreamId: string | undefined,
  responseKey: string,
  index: number,
  name: string,
): string {
  if (upstreamId !== undefined && upstreamId.length > 0) return upstreamId;
  return prefix + sha256(`${responseKey}\u0000${index}\u0000${name}`).slice(0, 24);
}

/** A short stable id for a response that has no responseId (from its content). */
export function responseKeyOf(resp: GeminiResponse): string {
  return resp.responseId ?? sha256(JSON.stringify(resp.candidates ?? [])).slice(0, 24);
}

// ---------------------------------------------------------------------------------------------
// JSON schema cleaning

/** Keywords of Gemini's OpenAPI-style schema subset; everything else is dropped. */
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'items',
  'properties',
  'required',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'anyOf',
  'propertyOrdering',
]);
const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['int32', 'int64', 'float', 'double']);
const MAX_SCHEMA_DEPTH = 32;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolveRef(ref: string, root: Record<string, unknown>): unknown {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!m) return undefined;
  const defs = root[m[1] as string];
  return isRecord(defs) ? defs[(m[2] as string).replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
}

function cleanNode(node: unknown, root: Record<string, unknown>, depth: number): Record<string, unknown> {
  if (!isRecord(node) || depth > MAX_SCHEMA_DEPTH) return {};
  let src = node;
  if (typeof src.$ref === 'string') {
    const target = resolveRef(src.$ref, root);
    // An unresolvable (or too deep) reference becomes "any object"; the description survives.
    src = isRecord(target) ? { ...target, ...omit(src, '$ref') } : { type: 'object', ...omit(src, '$ref') };
  }
  // allOf of objects → merge (Gemini has no allOf).
  if (Array.isArray(src.allOf)) {
    const merged: Record<string, unknown> = { ...omit(src, 'allOf') };
    for (const part of src.allOf) {
      const c = cleanNode(part, root, depth + 1);
      if (isRecord(c.properties)) {
        merged.properties = { ...(isRecord(merged.properties) ? merged.properties : {}), ...c.properties };
      }
      if (Array.isArray(c.required)) {
        merged.required = [...(Array.isArray(merged.required) ? merged.required : []), ...c.required];
      }
      for (const [k, v] of Object.entries(c)) if (!(k in merged)) merged[k] = v;
    }
    src = merged;
  }
  const out: Record<string, unknown> = {};
  // type: ["string", "null"] → type: "string", nullable: true.
  let type = src.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (nonNull.length !== type.length) out.nullable = true;
    type = nonNull[0];
  }
  if (typeof type === 'string') out.type = type;
  // oneOf behaves like anyOf for generation purposes.
  const anyOf = Array.isArray(src.anyOf) ? src.anyOf : Array.isArray(src.oneOf) ? src.oneOf : undefined;
  if (anyOf) {
    const branches = anyOf.filter((b) => !(isRecord(b) && b.type === 'null'));
    if (branches.length !== anyOf.length) out.nullable = true;
    if (branches.length === 1) Object.assign(out, cleanNode(branches[0], root, depth + 1));
    else if (branches.length > 1) out.anyOf = branches.map((b) => cleanNode(b, root, depth + 1));
  }
  if (src.const !== undefined && src.enum === undefined) {
    out.enum = [String(src.const)];
    out.type ??= 'string';
  }
  for (const [key, value] of Object.entries(src)) {
    if (!SCHEMA_KEYS.has(key) || key === 'type' || key === 'anyOf') continue;
    switch (key) {
      case 'properties':
        if (isRecord(value)) {
          out.properties = Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k, cleanNode(v, root, depth + 1)]),
          );
        }
        break;
      case 'items':
        out.items = cleanNode(Array.isArray(value) ? value[0] : value, root, depth + 1);
        break;
      case 'enum':
        if (Array.isArray(value)) {
          out.enum = value.filter((v) => v !== null).map(String);
          out.type = 'string';
        }
        break;
      case 'format': {
        const t = out.type;
        const ok =
          typeof value === 'string' &&
          ((t === 'string' && STRING_FORMATS.has(value)) ||
            ((t === 'number' || t === 'integer') && NUMBER_FORMATS.has(value)));
        if (ok) out.format = value;
        break;
      }
      case 'nullable':
        if (value === true) out.nullable = true;
        break;
      default:
        out[key] = value;
    }
  }
  if (out.type === undefined && out.anyOf === undefined) {
    out.type = isRecord(out.properties) ? 'object' : isRecord(out.items) ? 'array' : 'string';
  }
  if (out.type === 'object' && Array.isArray(out.required)) {
    const props = isRecord(out.properties) ? out.properties : {};
    const req = out.required.filter((r): r is string => typeof r === 'string' && r in props);
    if (req.length > 0) out.required = [...new Set(req)];
    else delete out.required;
  } else {
    delete out.required;
  }
  if (out.type === 'array' && out.items === undefined) out.items = { type: 'string' };
  return out;
}

function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _drop, ...rest } = o;
  return rest;
}

/**
 * Turns a client's JSON schema (tool parameters, response schema) into the subset Gemini accepts:
 * drops `$schema`, `$id`, `additionalProperties`, `default`, `examples`, `pattern`, unsupported
 * `format`s and other unknown keywords; resolves local `$ref`s; merges `allOf`; maps `oneOf` to
 * `anyOf`, `const` to a one-value `enum` and `type: [T, "null"]` to `nullable`; keeps `required`
 * only for properties that exist. Never throws: a non-object becomes an empty object schema.
 */
export function cleanJsonSchema(schema: unknown): Record<string, unknown> {
  if (!isRecord(schema)) return { type: 'object', properties: {} };
  const out = cleanNode(schema, schema, 0);
  if (out.type === 'object' && out.properties === undefined) out.properties = {};
  return out;
}

// ---------------------------------------------------------------------------------------------
// Finish reasons and usage

/** A client-neutral reason the model stopped. */
export type StopKind = 'stop' | 'max_tokens' | 'tool_use' | 'safety' | 'error';

/** Maps a Gemini finishReason (and whether the answer called tools) to a neutral stop kind. */
export function stopKindOf(finishReason: string | undefined, calledTools: boolean): StopKind {
  switch (finishReason) {
    case 'MAX_TOKENS':
      return 'max_tokens';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'LANGUAGE':
      return 'safety';
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
      return 'error';
    default:
      // STOP, OTHER, unspecified or absent: a tool call wins over a plain stop.
      return calledTools ? 'tool_use' : 'stop';
  }
}

/** Token usage in client-neutral terms. */
export interface NormalizedUsage {
  /** Prompt tokens, cached ones included. */
  inputTokens: number;
  /** Of `inputTokens`, served from the prompt cache. */
  cachedInputTokens: number;
  /** Answer plus reasoning tokens. */
  outputTokens: number;
  /** Of `outputTokens`, reasoning ("thoughts"). */
  reasoningTokens: number;
  totalTokens: number;
}

export function normalizeUsage(meta: GeminiUsageMetadata | undefined): NormalizedUsage {
  const input = meta?.promptTokenCount ?? 0;
  const reasoning = meta?.thoughtsTokenCount ?? 0;
  const output = (meta?.candidatesTokenCount ?? 0) + reasoning;
  return {
    inputTokens: input,
    cachedInputTokens: Math.min(input, meta?.cachedContentTokenCount ?? 0),
    outputTokens: output,
    reasoningTokens: reasoning,
    totalTokens: meta?.totalTokenCount ?? input + output,
  };
}

/** The parts of the first candidate (the only one: every format asks for one). */
export function firstCandidateParts(resp: GeminiResponse): GeminiPart[] {
  return resp.candidates?.[0]?.content?.parts ?? [];
}

// ---------------------------------------------------------------------------------------------
// Thought signatures

/**
 * Where translators keep the thought signatures Gemini attaches to function calls, keyed by
 * tool-call id, so they can be sent back on the next turn by clients (OpenAI format) that have no
 * field for them. Give one instance to every translator of a server.
 */
export interface SignatureStore {
  get(toolCallId: string): string | undefined;
  set(toolCallId: string, signature: string): void;
}

/** A bounded least-recently-used SignatureStore. */
export class SignatureCache implements SignatureStore {
  private readonly map = new Map<string, string>();
  constructor(readonly maxEntries = 5000) {}

  get(id: string): string | undefined {
    const v = this.map.get(id);
    if (v !== undefined) {
      this.map.delete(id);
      this.map.set(id, v);
    }
    return v;
  }

  set(id: string, signature: string): void {
    this.map.delete(id);
    this.map.set(id, signature);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

// ---------------------------------------------------------------------------------------------
// Session key

export interface SessionKeyInput {
  /** Value of the client's `x-session-id` header, if any. */
  headerSessionId?: string | undefined;
  /** A client-supplied conversation or user id (Anthropic metadata.user_id, OpenAI user). */
  clientId?: string | undefined;
  /** The system prompt text. */
  system?: string | undefined;
  /** The text of the first user message. */
  firstUserText?: string | undefined;
}

/**
 * A stable key for a conversation, so the pool can keep it on one account (prompt caches live there).
 * Uses, in order, the x-session-id header, the client's own id, else the system prompt and the first
 * user message. Always hashed (SHA-256, 32 hex chars): client ids can hold emails and must not reach
 * logs as they are.
 */
export function deriveSessionKey(input: SessionKeyInput): string {
  const pick = (v: string | undefined): string | undefined => (v && v.trim().length > 0 ? v : undefined);
  const header = pick(input.headerSessionId);
  if (header) return 'h-' + sha256(`header\u0000${header}`).slice(0, 32);
  const client = pick(input.clientId);
  if (client) return 'c-' + sha256(`client\u0000${client}`).slice(0, 32);
  return 'p-' + sha256(`prompt\u0000${input.system ?? ''}\u0000${input.firstUserText ?? ''}`).slice(0, 32);
}

// ---------------------------------------------------------------------------------------------
// Shared request/response vocabulary

export interface TranslateOptions {
  /** Where thought signatures of earlier tool calls are kept (see SignatureStore). */
  signatures?: SignatureStore | undefined;
}

export interface TranslatedRequest {
  /** Model id as the client named it (the server maps aliases). */
  model: string;
  request: GeminiRequest;
  stream: boolean;
  /** From the client's own id or the prompt; the codec puts the x-session-id header first. */
  sessionKey: string;
}

/** A tool result as the object Gemini's functionResponse.response wants. */
export function toolResultObject(text: string, isError = false): Record<string, unknown> {
  return isError ? { error: text } : { result: text };
}

/** The creation time every listed model reports (clients only display it): 2026-01-01T00:00:00Z. */
export const MODEL_CREATED_S = 1_767_225_600;
export const MODEL_CREATED_ISO = '2026-01-01T00:00:00Z';

/**
 * What the three client-format translators share: SSE frames, validation errors that name the field,
 * stable tool-call ids, finish-reason and token-usage normalisation, a thought-signature cache, and
 * the session key of a conversation. (Client JSON schemas → the upstream subset: schema.ts.)
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
  /** Set when no account has quota or every one is rate limited (see proxy/quotaAnswer.ts). */
  quota?: QuotaErrorInfo;
}

/** What a quota / rate-limit answer tells the client beyond its message. */
export interface QuotaErrorInfo {
  /**
   * `RATE_LIMIT_EXCEEDED`: an account serves again soon; retry after `retryAfterMs`.
   * `QUOTA_EXHAUSTED`: not before a reset that is further away (or unknown); the client should stop.
   */
  reason: 'QUOTA_EXHAUSTED' | 'RATE_LIMIT_EXCEEDED';
  /** Milliseconds until an account serves again, when known. */
  retryAfterMs?: number;
  /** That moment, epoch milliseconds. */
  resetAt?: number;
  /** The upstream model asked for. */
  model?: string;
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
// ---------------------------------------------------------------------------------------------
// Nesting depth

/**
 * How deep client JSON may nest (objects and arrays). Real requests stay far below (tool schemas and
 * arguments a few dozen levels at most); deeper bodies are refused before any of our code recurses
 * over them (serialising a 10,000-level body for the upstream overflows the stack).
 */
export const MAX_JSON_DEPTH = 256;

interface PathNode {
  key: string;
  parent: PathNode | undefined;
}

function renderPath(node: PathNode | undefined, prefix: string): string {
  const keys: string[] = [];
  for (let n = node; n; n = n.parent) keys.push(n.key);
  keys.reverse();
  const shown = keys.length > 8 ? [...keys.slice(0, 6), '…', ...keys.slice(-1)] : keys;
  const path = shown.join('.');
  return prefix === '' ? path || '(body)' : path === '' ? prefix : `${prefix}.${path}`;
}

/**
 * The dotted path of the first object or array nested deeper than `max` levels in `value`, or
 * undefined when none is. Iterative, so it is safe on any depth.
 */
export function tooDeepPath(value: unknown, max = MAX_JSON_DEPTH, prefix = ''): string | undefined {
  const stack: Array<{ v: unknown; depth: number; at: PathNode | undefined }> = [
    { v: value, depth: 1, at: undefined },
  ];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { v, depth, at } = item;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return renderPath(at, prefix);
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((x: unknown, i): [string, unknown] => [String(i), x])
      : Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, x] = entries[i] as [string, unknown];
      if (typeof x === 'object' && x !== null)
        stack.push({ v: x, depth: depth + 1, at: { key, parent: at } });
    }
  }
  return undefined;
}

/** Throws a RequestValidationError (400) naming the field when `value` nests deeper than allowed. */
export function checkJsonDepth(value: unknown, field = ''): void {
  const at = tooDeepPath(value, MAX_JSON_DEPTH, field);
  if (at === undefined) return;
  throw new RequestValidationError(
    `${at}: the JSON nests deeper than ${MAX_JSON_DEPTH} levels, the most Quota Pilot accepts; flatten that field and send the request again.`,
    at,
  );
}

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

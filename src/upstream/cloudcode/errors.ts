/**
 * Turns a failed Cloud Code answer into one typed `ProviderError`: what happened (kind) and when
 * trying again makes sense (retryAfterMs / resetTime), read from every source the upstream uses.
 */
import { ProviderError, type ProviderErrorKind } from '../../core/provider';
import { formatDelay, parseDuration, parseResetPhrase, parseRetryAfter, parseTimestamp } from './duration';
import { GoogleErrorBodySchema, GoogleErrorDetailSchema, type GoogleErrorDetail } from './schemas';

export type HeaderBag =
  Readonly<Record<string, string | string[] | undefined>> | { get(name: string): string | null };

export interface ErrorInput {
  status: number;
  headers?: HeaderBag;
  /** The response body: parsed JSON, raw text, or nothing. */
  body?: unknown;
  /** Epoch ms, for `Retry-After` dates and reset timestamps. */
  now: number;
  /** The model the request was for, when known (the body may name it too). */
  model?: string;
  /** What was called, for the message (e.g. "fetchAvailableModels"). */
  method?: string;
}

/** Everything the error body and headers say about "when", each source kept apart. */
export interface DelaySources {
  retryAfterHeaderMs?: number;
  retryInfoMs?: number;
  quotaResetDelayMs?: number;
  quotaResetTimestamp?: number;
  phraseMs?: number;
}

export interface ParsedGoogleError {
  code?: number;
  status?: string;
  message: string;
  /** Every ErrorInfo reason found, in order. */
  reasons: string[];
  model?: string;
  validationUrl?: string;
  delays: DelaySources;
}

const MAX_MESSAGE = 300;

function header(headers: HeaderBag | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const bag = headers as Readonly<Record<string, string | string[] | undefined>>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

function bodyObject(body: unknown): unknown {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      return body;
    }
  }
  if (body instanceof Uint8Array) return bodyObject(new TextDecoder().decode(body));
  return body;
}

function retryDelayMs(delay: GoogleErrorDetail['retryDelay']): number | undefined {
  if (delay === undefined) return undefined;
  if (typeof delay === 'string') return parseDuration(delay);
  const seconds = Number(delay.seconds ?? 0);
  const nanos = delay.nanos ?? 0;
  const ms = seconds * 1_000 + nanos / 1e6;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function metaString(meta: Record<string, unknown> | undefined, ...keys: string[]): string | undefined {
  if (!meta) return undefined;
  for (const k of keys) {
    const v = meta[k];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return undefined;
}

function validUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a Google error body and headers: reasons and delays from every `details` entry. */
export function parseGoogleError(input: Pick<ErrorInput, 'headers' | 'body' | 'now'>): ParsedGoogleError {
  const delays: DelaySources = {};
  const retryAfter = parseRetryAfter(header(input.headers, 'retry-after'), input.now);
  if (retryAfter !== undefined) delays.retryAfterHeaderMs = retryAfter;

  const raw = bodyObject(input.body);
  const parsed = GoogleErrorBodySchema.safeParse(raw);
  const out: ParsedGoogleError = { message: '', reasons: [], delays };
  if (!parsed.success) {
    if (typeof raw === 'string') out.message = raw.trim();
    const phrase = parseResetPhrase(out.message);
    if (phrase !== undefined) delays.phraseMs = phrase;
    return out;
  }
  const err = parsed.data.error;
  out.code = err.code;
  out.status = err.status;
  out.message = err.message ?? '';
  for (const entry of err.details ?? []) {
    const d = GoogleErrorDetailSchema.safeParse(entry);
    if (!d.success) continue;
    const detail = d.data;
    if (detail.reason) out.reasons.push(detail.reason);
    const rd = retryDelayMs(detail.retryDelay);
    if (rd !== undefined && delays.retryInfoMs === undefined) delays.retryInfoMs = rd;
    const meta = detail.metadata;
    const resetDelay = metaString(meta, 'quotaResetDelay');
    const rdMs = resetDelay === undefined ? undefined : parseDuration(resetDelay);
    if (rdMs !== undefined && delays.quotaResetDelayMs === undefined) delays.quotaResetDelayMs = rdMs;
    const stamp = metaString(meta, 'quotaResetTimeStamp', 'quotaResetTimestamp');
    const at = stamp === undefined ? undefined : parseTimestamp(stamp);
    if (at !== undefined && delays.quotaResetTimestamp === undefined) delays.quotaResetTimestamp = at;
    out.model ??= metaString(meta, 'model');
    out.validationUrl ??= validUrl(metaString(meta, 'validation_url', 'validationUrl'));
  }
  const phrase = parseResetPhrase(out.message);
  if (phrase !== undefined) delays.phraseMs = phrase;
  return out;
}

/** The best delay (ms) among the sources, in the order the notes rank them. */
export function bestDelayMs(delays: DelaySources, now: number): number | undefined {
  const fromStamp =
    delays.quotaResetTimestamp === undefined ? undefined : Math.max(0, delays.quotaResetTimestamp - now);
  const ms =
    delays.retryAfterHeaderMs ??
    delays.retryInfoMs ??
    delays.quotaResetDelayMs ??
    fromStamp ??
    delays.phraseMs;
  return ms === undefined ? undefined : Math.ceil(ms);
}

const TOS =
  /terms of service|tos violation|violat\w* (?:the |our )?(?:terms|policy|policies)|suspended|banned/i;
const NO_CAPACITY = /no capacity|capacity (?:is )?(?:exhausted|unavailable)|overloaded/i;

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_MESSAGE ? `${oneLine.slice(0, MAX_MESSAGE - 1)}…` : oneLine;
}

/**
 * Classifies a failed Cloud Code response. Looks at every ErrorInfo reason (not only the first
 * entry of `details`), then at the HTTP status; the delay comes from, best first: the `Retry-After`
 * header, `RetryInfo.retryDelay`, `ErrorInfo.metadata.quotaResetDelay`, `quotaResetTimeStamp`, and
 * a "resets in …" phrase of the message.
 */
export function classifyError(input: ErrorInput): ProviderError {
  const g = parseGoogleError(input);
  const status = input.status;
  const reasons = new Set(g.reasons);
  const model = g.model ?? input.model;
  const delay = bestDelayMs(g.delays, input.now);
  const resetTime = g.delays.quotaResetTimestamp ?? (delay === undefined ? undefined : input.now + delay);
  const upstream = g.message ? `: ${clip(g.message)}` : '';
  const what = `${input.method ?? 'Cloud Code'}${model ? ` (${model})` : ''}`;
  const wait = delay === undefined ? '' : ` Try again in ${formatDelay(delay)}.`;

  const make = (kind: ProviderErrorKind, text: string, extra: { url?: string; timing?: boolean } = {}) =>
    new ProviderError(kind, text, {
      status,
      ...(model === undefined ? {} : { model }),
      ...(extra.url === undefined ? {} : { url: extra.url }),
      ...(extra.timing === false || delay === undefined ? {} : { retryAfterMs: delay }),
      ...(extra.timing === false || resetTime === undefined ? {} : { resetTime }),
    });

  if (reasons.has('VALIDATION_REQUIRED') || (status === 403 && g.validationUrl !== undefined)) {
    return make(
      'verification-required',
      `${what}: the account must be verified in a browser${g.validationUrl ? ` at ${g.validationUrl}` : ''}${upstream}. Retrying will not help until it is.`,
      { ...(g.validationUrl === undefined ? {} : { url: g.validationUrl }), timing: false },
    );
  }
  if (reasons.has('QUOTA_EXHAUSTED')) {
    return make('quota-exhausted', `${what}: quota exhausted${upstream}.${wait}`);
  }
  if (reasons.has('INSUFFICIENT_G1_CREDITS_BALANCE')) {
    return make('quota-exhausted', `${what}: not enough Google One AI credits left${upstream}.${wait}`);
  }
  if (reasons.has('MODEL_CAPACITY_EXHAUSTED')) {
    return make('capacity', `${what}: the model has no server capacity right now${upstream}.${wait}`);
  }
  if (reasons.has('RATE_LIMIT_EXCEEDED')) {
    return make('rate-limited', `${what}: rate limited${upstream}.${wait}`);
  }
  if (status === 401 || g.status === 'UNAUTHENTICATED') {
    return make(
      'auth-expired',
      `${what}: the access token was rejected (401); refresh it and retry once${upstream}.`,
      {
        timing: false,
      },
    );
  }
  if (status === 403 || g.status === 'PERMISSION_DENIED') {
    const tos = TOS.test(g.message);
    return make(
      'forbidden',
      `${what}: access denied (403)${tos ? ' — the account appears banned for a Terms of Service violation' : ''}${upstream}. Retrying will not help.`,
      { timing: false },
    );
  }
  if (status === 429 || g.status === 'RESOURCE_EXHAUSTED') {
    // A bare RESOURCE_EXHAUSTED without ErrorInfo is a short rate limit, not exhaustion.
    return make('rate-limited', `${what}: rate limited (429)${upstream}.${wait}`);
  }
  if (status === 404 || g.status === 'NOT_FOUND') {
    return make('not-found', `${what}: not found (404)${upstream}.`, { timing: false });
  }
  if (status === 503 && NO_CAPACITY.test(g.message)) {
    return make('capacity', `${what}: no capacity available (503)${upstream}.${wait}`);
  }
  if (status === 408 || status >= 500) {
    return make(
      'transient',
      `${what}: the upstream failed with ${status}${upstream}.${wait || ' Retry with backoff.'}`,
    );
  }
  if (status >= 200 && status < 300) {
    return make(
      'invalid-response',
      `${what}: the upstream reported an error in a ${status} answer${upstream}.`,
      {
        timing: false,
      },
    );
  }
  // Other 4xx (usually 400): the request itself was refused; retrying elsewhere will not help.
  return make(
    'invalid-response',
    `${what}: the upstream refused the request (${status}${g.status ? ` ${g.status}` : ''})${upstream}.`,
    { timing: false },
  );
}

/** A network failure (connect refused, reset, timeout) as a transient ProviderError. */
export function networkError(method: string, cause: unknown): ProviderError {
  const code = (cause as { code?: unknown } | null)?.code;
  const text = cause instanceof Error ? cause.message : String(cause);
  return new ProviderError(
    'transient',
    `${method}: network error${typeof code === 'string' ? ` ${code}` : ''} (${clip(text)}). Check the connection; retrying may help.`,
    { cause },
  );
}

export function abortedError(method: string, cause?: unknown): ProviderError {
  return new ProviderError('aborted', `${method}: cancelled by the caller.`, { cause });
}

/**
 * The Cloud Code (`v1internal`) client: one keep-alive undici pool per base URL, fallback to the next
 * base on 404 / 408 / 5xx / network errors, one token refresh and retry on 401, validated answers,
 * and a pull-based SSE stream. See the protocol notes in the project docs.
 */
import { randomUUID } from 'node:crypto';
import { arch, platform } from 'node:os';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Pool, type Dispatcher } from 'undici';
import type { Clock } from '../../core/clock';
import { SystemClock } from '../../core/clock';
import { DEFAULT_CATALOG, SUMMARY_GROUP_NAMES, catalogModel, type SummaryGroup } from '../../core/catalog';
import { ProviderError } from '../../core/provider';
import { LocalFailure } from '../../core/errors';
import type { AccountStatus, ModelQuota, QuotaBucket, QuotaWindow, Tier } from '../../core/types';
import { parseTimestamp } from './duration';
import { abortedError, classifyError, networkError } from './errors';
import {
  CountTokensResponseSchema,
  FetchAvailableModelsResponseSchema,
  GenerateContentEnvelopeSchema,
  LoadCodeAssistResponseSchema,
  OnboardOperationSchema,
  QuotaSummaryResponseSchema,
  parseJsonText,
  parseUpstream,
  projectIdOf,
  type GenerateContentResponse,
  type LoadCodeAssistResponse,
  type TierInfo,
} from './schemas';

export const DEFAULT_BASE_URLS: readonly string[] = Object.freeze([
  'https://daily-cloudcode-pa.googleapis.com',
  'https://cloudcode-pa.googleapis.com',
]);

export interface AccessTokenOptions {
  /** Refresh even if the cached token looks valid (after a 401). */
  forceRefresh: boolean;
  /** The token the upstream just rejected, so concurrent 401s share one refresh. */
  rejectedToken?: string;
  signal?: AbortSignal;
}

/** Where access tokens come from; the OAuth token manager implements it. */
export type GetAccessToken = (accountId: string, options: AccessTokenOptions) => Promise<string>;

export interface CloudCodeTimeouts {
  /** TCP + TLS connect, ms. Default 10 s. */
  connectMs: number;
  /** From sending the request to receiving the response headers, ms. Default 60 s. */
  headersMs: number;
  /** Longest silence between two body chunks, ms (also between SSE events). Default 120 s. */
  bodyIdleMs: number;
  /**
   * Streamed generation: longest wait for the response headers and then the first server-sent
   * event, ms. A stall fails the call at once (no other base URL) as a transient error that asks
   * for a brief cooldown, so the caller moves to another account. Default 30 s.
   */
  firstByteMs: number;
}

/** How long an account that stalled stays out (the cooldown the stall error asks for). */
export const STALL_COOLDOWN_MS = 15_000;

/** The upstream sent nothing within the first-byte deadline. */
function stallError(method: string, ms: number): ProviderError {
  return new ProviderError(
    'transient',
    `${method}: no answer within ${Math.round(ms / 100) / 10} s (the upstream stalled); trying another account.`,
    { retryAfterMs: STALL_COOLDOWN_MS },
  );
}

export interface CloudCodeLogger {
  debug(message: string): void;
  warn(message: string): void;
}

export interface CloudCodeClientOptions {
  getAccessToken: GetAccessToken;
  /** Tried in order; the next is used on 404, 408, 5xx and network errors. */
  baseUrls?: readonly string[];
  /** Full User-Agent; default `antigravity/<clientVersion> <os>/<arch>`. */
  userAgent?: string;
  /** Version in the default User-Agent. */
  clientVersion?: string;
  timeouts?: Partial<CloudCodeTimeouts>;
  /** Also move to the next base on 429 (some tools do, to spread rate limits). Default false. */
  fallbackOn429?: boolean;
  onboard?: { attempts?: number; intervalMs?: number };
  clock?: Clock;
  logger?: CloudCodeLogger;
  /** Keep-alive connections per base URL. Default 16. */
  connections?: number;
}

export interface CallOptions {
  accountId: string;
  signal?: AbortSignal;
  /** Sent as `x-goog-user-project`. */
  userProject?: string;
}

export const DEFAULT_CLIENT_VERSION = '1.11.5';

export const CLIENT_METADATA = Object.freeze({
  ideType: 'ANTIGRAVITY',
  platform: 'PLATFORM_UNSPECIFIED',
  pluginType: 'GEMINI',
});

export interface LoadCodeAssistResult {
  projectId?: string;
  tier: Tier;
  /** The tier id the rank came from (e.g. `g1-pro-tier`). */
  tierId?: string;
  tierName?: string;
  /** The default `allowedTiers` entry, used to onboard. */
  defaultTierId?: string;
  /** Set when `ineligibleTiers` restricts the account. */
  status?: AccountStatus;
  raw: LoadCodeAssistResponse;
}

export interface ModelMetadata {
  id: string;
  displayName?: string;
  provider?: string;
  maxTokens?: number;
  maxOutputTokens?: number;
  supportsThinking?: boolean;
  recommended?: boolean;
}

export interface AvailableModels {
  fetchedAt: number;
  readings: ModelQuota[];
  models: ModelMetadata[];
  /** Deprecated id → the id it forwards to. */
  deprecated: Record<string, string>;
}

export interface QuotaSummary {
  fetchedAt: number;
  buckets: QuotaBucket[];
  readings: ModelQuota[];
}

export interface GenerateOptions extends CallOptions {
  model: string;
  project: string;
  /** The Gemini-style request: contents, systemInstruction, tools, generationConfig, sessionId. */
  request: Record<string, unknown>;
  requestType?: string;
  requestId?: string;
  /** `userAgent` field of the envelope. Default "antigravity". */
  envelopeUserAgent?: string;
}

/** Tier id → rank: `ultra`/`helium` → ULTRA, `pro`/`standard` → PRO, any other id → FREE. */
export function tierFromId(id: string | undefined): Tier {
  if (!id) return 'UNKNOWN';
  const s = id.toLowerCase();
  if (s.includes('ultra') || s.includes('helium')) return 'ULTRA';
  if (s.includes('pro') || s.includes('standard')) return 'PRO';
  return 'FREE';
}

/**
 * Reads `loadCodeAssist`: project (string or `{id}`), tier (paidTier, then currentTier, then the
 * default allowedTiers entry) and status (VALIDATION_REQUIRED → needs-verification, any other
 * ineligible tier → restricted).
 */
export function interpretLoadCodeAssist(raw: LoadCodeAssistResponse): LoadCodeAssistResult {
  const defaultTier = raw.allowedTiers?.find((t) => t.isDefault) ?? undefined;
  const source: TierInfo | undefined =
    [raw.paidTier, raw.currentTier, defaultTier].find((t): t is TierInfo => !!t && !!t.id) ?? undefined;
  const result: LoadCodeAssistResult = { tier: tierFromId(source?.id), raw };
  const projectId = projectIdOf(raw.cloudaicompanionProject);
  if (projectId) result.projectId = projectId;
  if (source?.id) result.tierId = source.id;
  if (source?.name) result.tierName = source.name;
  const onboardTier = defaultTier?.id ?? raw.allowedTiers?.[0]?.id;
  if (onboardTier) result.defaultTierId = onboardTier;

  const ineligible = raw.ineligibleTiers ?? [];
  if (ineligible.length > 0) {
    const validation = ineligible.find((t) => t.reasonCode === 'VALIDATION_REQUIRED');
    const url = safeUrl(validation?.validationUrl ?? ineligible.find((t) => t.validationUrl)?.validationUrl);
    if (validation) {
      result.status = {
        kind: 'needs-verification',
        reason: validation.reasonMessage || 'Google asks to verify this account in a browser',
        ...(url ? { url } : {}),
      };
    } else {
      const reasons = [
        ...new Set(ineligible.map((t) => t.reasonMessage || t.reasonCode || 'ineligible').filter(Boolean)),
      ];
      result.status = {
        kind: 'restricted',
        reason: reasons.join('; ').slice(0, 500) || 'the account is not eligible',
        ...(url ? { url } : {}),
      };
    }
  }
  return result;
}

function safeUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

const EPOCH_ZERO_LIMIT = 24 * 3_600_000;

/** A reset time, or null when absent, unparsable, or the 1970 placeholder. */
function resetOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  const at = parseTimestamp(text);
  if (at === undefined || at < EPOCH_ZERO_LIMIT) return null;
  return at;
}

/** Maps `fetchAvailableModels` onto readings (source 'models'), metadata and the forwarding map. */
export function interpretAvailableModels(raw: unknown, fetchedAt: number): AvailableModels {
  const data = parseUpstream(FetchAvailableModelsResponseSchema, raw, 'fetchAvailableModels');
  const readings: ModelQuota[] = [];
  const models: ModelMetadata[] = [];
  for (const [id, m] of Object.entries(data.models ?? {})) {
    if (id.length === 0) continue;
    const q = m.quotaInfo ?? undefined;
    const resetTime = resetOf(q?.resetTime);
    // A quotaInfo with a reset time but no fraction means exhausted; no quotaInfo at all: unknown.
    const remainingFraction =
      q?.remainingFraction ?? (q !== undefined && q.resetTime !== undefined ? 0 : null);
    readings.push({ model: id, remainingFraction, resetTime, source: 'models', fetchedAt });
    const meta: ModelMetadata = { id };
    if (m.displayName !== undefined) meta.displayName = m.displayName;
    if (m.modelProvider !== undefined) meta.provider = m.modelProvider;
    if (m.maxTokens !== undefined) meta.maxTokens = m.maxTokens;
    if (m.maxOutputTokens !== undefined) meta.maxOutputTokens = m.maxOutputTokens;
    if (m.supportsThinking !== undefined) meta.supportsThinking = m.supportsThinking;
    if (m.recommended !== undefined) meta.recommended = m.recommended;
    models.push(meta);
  }
  const deprecated: Record<string, string> = {};
  for (const [from, to] of Object.entries(data.deprecatedModelIds ?? {})) deprecated[from] = to.newModelId;
  return { fetchedAt, readings, models, deprecated };
}

function windowOf(window: string | undefined, bucketId: string | undefined): QuotaWindow | undefined {
  for (const text of [window, bucketId]) {
    if (!text) continue;
    if (/week/i.test(text)) return 'weekly';
    if (/(^|[^0-9])5\s*-?h|five[_ -]?hour/i.test(text)) return '5h';
  }
  return undefined;
}

/** "Models within this group: a, b and c." → ['a', 'b', 'c']. */
export function modelsFromDescription(description: string | undefined): string[] | undefined {
  if (!description) return undefined;
  const m = /models within this group\s*:\s*(.+)$/is.exec(description);
  if (!m) return undefined;
  const list = (m[1] as string)
    .replace(/\.\s*$/, '')
    .split(/\s*,\s*|\s+and\s+/i)
    .map((s) => s.trim().replace(/^`|`$/g, ''))
    .filter((s) => /^[\w.:-]+$/.test(s));
  return list.length > 0 ? list : undefined;
}

function summaryGroupOf(displayName: string): SummaryGroup | undefined {
  for (const [group, name] of Object.entries(SUMMARY_GROUP_NAMES) as [SummaryGroup, string][]) {
    if (name.toLowerCase() === displayName.toLowerCase()) return group;
  }
  if (/gemini/i.test(displayName)) return 'gemini';
  if (/claude|gpt|third/i.test(displayName)) return 'third-party';
  return undefined;
}

/**
 * Maps `retrieveUserQuotaSummary` onto buckets and per-model readings. A group's models come from
 * its description when it lists them, else from the catalog's summary group (plus `knownModels`
 * the caller has seen, e.g. from fetchAvailableModels, that the catalog places in that group).
 */
export function interpretQuotaSummary(
  raw: unknown,
  fetchedAt: number,
  knownModels: readonly string[] = [],
): QuotaSummary {
  const data = parseUpstream(QuotaSummaryResponseSchema, raw, 'retrieveUserQuotaSummary');
  const buckets: QuotaBucket[] = [];
  const readings: ModelQuota[] = [];
  for (const [gi, group] of (data.groups ?? []).entries()) {
    const name = group.displayName?.trim() || `group ${gi + 1}`;
    let models = modelsFromDescription(group.description);
    if (!models) {
      const sg = summaryGroupOf(name);
      const ids = new Set(DEFAULT_CATALOG.filter((m) => m.summaryGroup === sg).map((m) => m.id));
      for (const id of knownModels) {
        const c = catalogModel(id);
        if (sg !== undefined && (c?.summaryGroup === sg || (!c && sg === guessGroup(id)))) ids.add(id);
      }
      models = sg === undefined ? [] : [...ids];
    }
    for (const b of group.buckets ?? []) {
      const window = windowOf(b.window, b.bucketId);
      if (!window) continue;
      const bucket: QuotaBucket = {
        id: b.bucketId || `${name}-${window}`,
        window,
        group: name,
        remainingFraction: b.remainingFraction ?? null,
        resetTime: resetOf(b.resetTime),
        models: [...models],
        fetchedAt,
      };
      buckets.push(bucket);
      for (const model of models) {
        readings.push({
          model,
          remainingFraction: bucket.remainingFraction,
          resetTime: bucket.resetTime,
          source: window === '5h' ? 'bucket-5h' : 'bucket-weekly',
          fetchedAt,
        });
      }
    }
  }
  return { fetchedAt, buckets, readings };
}

function guessGroup(model: string): SummaryGroup {
  return /^gemini/i.test(model) ? 'gemini' : 'third-party';
}

type RawResponse = Dispatcher.ResponseData;

interface Attempt {
  response: RawResponse;
  /** Aborts the request (used to stop a stream early). */
  abort: () => void;
  cleanup: () => void;
}

/** The Cloud Code client. Call `close()` when done to end the keep-alive connections. */
export class CloudCodeClient {
  private readonly baseUrls: readonly URL[];
  private readonly pools = new Map<string, Pool>();
  private readonly userAgent: string;
  private readonly timeouts: CloudCodeTimeouts;
  private readonly clock: Clock;
  private readonly onboardAttempts: number;
  private readonly onboardIntervalMs: number;

  constructor(private readonly options: CloudCodeClientOptions) {
    const bases = options.baseUrls ?? DEFAULT_BASE_URLS;
    if (bases.length === 0) throw new RangeError('CloudCodeClient needs at least one base URL');
    this.baseUrls = bases.map((b) => {
      const u = new URL(b);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') {
        throw new RangeError(`base URL ${b} must be http(s)`);
      }
      return u;
    });
    this.userAgent =
      options.userAgent ??
      `antigravity/${options.clientVersion ?? DEFAULT_CLIENT_VERSION} ${platform()}/${arch()}`;
    this.timeouts = {
      connectMs: 10_000,
      headersMs: 60_000,
      bodyIdleMs: 120_000,
      firstByteMs: 30_000,
      ...options.timeouts,
    };
    this.clock = options.clock ?? new SystemClock();
    this.onboardAttempts = Math.max(1, options.onboard?.attempts ?? 8);
    this.onboardIntervalMs = Math.max(0, options.onboard?.intervalMs ?? 3_000);
  }

  /** Closes every keep-alive connection. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  async loadCodeAssist(opts: CallOptions & { projectId?: string }): Promise<LoadCodeAssistResult> {
    const body: Record<string, unknown> = { metadata: { ...CLIENT_METADATA } };
    if (opts.projectId) {
      body.cloudaicompanionProject = opts.projectId;
      (body.metadata as Record<string, unknown>).duetProject = opts.projectId;
    }
    const raw = await this.callJson('loadCodeAssist', body, opts);
    return interpretLoadCodeAssist(parseUpstream(LoadCodeAssistResponseSchema, raw, 'loadCodeAssist'));
  }

  /**
   * Onboards the account to `tierId` and returns its project id, re-asking until the long-running
   * operation is done (at most `onboard.attempts` times, `onboard.intervalMs` apart on the clock).
   */
  async onboardUser(opts: CallOptions & { tierId: string }): Promise<string> {
    const body = { tierId: opts.tierId, metadata: { ...CLIENT_METADATA } };
    for (let attempt = 1; attempt <= this.onboardAttempts; attempt++) {
      const raw = await this.callJson('onboardUser', body, opts);
      const op = parseUpstream(OnboardOperationSchema, raw, 'onboardUser');
      if (op.error) {
        throw new ProviderError(
          'forbidden',
          `onboardUser: onboarding to ${opts.tierId} failed${op.error.message ? `: ${op.error.message}` : ''}. Open Antigravity once with this account, then retry.`,
          op.error.code === undefined ? {} : { status: op.error.code },
        );
      }
      const project = projectIdOf(op.response?.cloudaicompanionProject);
      if (op.done && project) return project;
      if (attempt < this.onboardAttempts) {
        try {
          await this.clock.sleep(this.onboardIntervalMs, opts.signal);
        } catch (e) {
          throw abortedError('onboardUser', e);
        }
      }
    }
    throw new ProviderError(
      'transient',
      `onboardUser: onboarding to ${opts.tierId} did not finish after ${this.onboardAttempts} attempts; try again later.`,
    );
  }

  /** loadCodeAssist, then onboardUser when no project came back (and the account is not restricted). */
  async ensureProject(opts: CallOptions): Promise<LoadCodeAssistResult> {
    const info = await this.loadCodeAssist(opts);
    if (info.projectId || info.status) return info;
    const tierId = info.defaultTierId ?? info.tierId ?? 'free-tier';
    const projectId = await this.onboardUser({ ...opts, tierId });
    return { ...info, projectId };
  }

  /**
   * Per-model quota and metadata. With a project first; some accounts answer 403 with a project and
   * 200 without, so a plain 403 is retried once without it.
   */
  async fetchAvailableModels(opts: CallOptions & { projectId?: string }): Promise<AvailableModels> {
    let raw: unknown;
    try {
      raw = await this.callJson(
        'fetchAvailableModels',
        opts.projectId ? { project: opts.projectId } : {},
        opts,
      );
    } catch (e) {
      if (!(opts.projectId && e instanceof ProviderError && e.kind === 'forbidden')) throw e;
      this.options.logger?.debug('fetchAvailableModels: 403 with a project, retrying without it');
      raw = await this.callJson('fetchAvailableModels', {}, opts);
    }
    return interpretAvailableModels(raw, this.clock.now());
  }

  /** 5-hour and weekly buckets, mapped onto the models of their group. Needs the project. */
  async retrieveUserQuotaSummary(
    opts: CallOptions & { projectId: string; knownModels?: readonly string[] },
  ): Promise<QuotaSummary> {
    const raw = await this.callJson('retrieveUserQuotaSummary', { project: opts.projectId }, opts);
    return interpretQuotaSummary(raw, this.clock.now(), opts.knownModels);
  }

  /** One generation; returns the unwrapped `.response`. */
  async generateContent(opts: GenerateOptions): Promise<GenerateContentResponse> {
    const raw = await this.callJson('generateContent', this.envelope(opts), opts, opts.model);
    return parseUpstream(GenerateContentEnvelopeSchema, raw, 'generateContent').response;
  }

  /**
   * A streamed generation: parsed, unwrapped chunks, read from the socket only as fast as the
   * consumer iterates. Stopping early (break / return / throw) aborts the request.
   */
  streamGenerateContent(opts: GenerateOptions): AsyncIterable<GenerateContentResponse> {
    return {
      [Symbol.asyncIterator]: () => this.streamChunks(opts),
    };
  }

  /** Token count of a request; the body carries only `{request}` (model or project there is a 400). */
  async countTokens(
    opts: CallOptions & { request: Record<string, unknown> },
  ): Promise<{ totalTokens: number }> {
    const raw = await this.callJson('countTokens', { request: opts.request }, opts);
    const data = parseUpstream(CountTokensResponseSchema, raw, 'countTokens');
    return { totalTokens: data.totalTokens };
  }

  // -------------------------------------------------------------------------------------------

  private envelope(opts: GenerateOptions): Record<string, unknown> {
    return {
      project: opts.project,
      model: opts.model,
      userAgent: opts.envelopeUserAgent ?? 'antigravity',
      requestType: opts.requestType ?? 'agent',
      requestId: opts.requestId ?? `agent-${randomUUID()}`,
      request: opts.request,
    };
  }

  private async *streamChunks(
    opts: GenerateOptions,
  ): AsyncGenerator<GenerateContentResponse, void, undefined> {
    const method = 'streamGenerateContent';
    const firstByteMs = this.timeouts.firstByteMs;
    const started = this.clock.now();
    const attempt = await this.sendWithUserProject(method, this.envelope(opts), opts, {
      query: 'alt=sse',
      model: opts.model,
      firstByteMs,
    });
    // Headers came; the first event must follow within what is left of the first-byte deadline.
    let stalled = false;
    const firstEvent = this.clock.setTimeout(
      () => {
        stalled = true;
        attempt.abort();
      },
      firstByteMs - (this.clock.now() - started),
    );
    const queue: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (e) => queue.push(e) });
    const decoder = new TextDecoder();
    let finished = false;
    let events = 0;
    let head = '';
    try {
      const body = attempt.response.body;
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        if (events === 0 && head.length < 4_096) head += text.slice(0, 4_096 - head.length);
        parser.feed(text);
        events += queue.length;
        if (events > 0) firstEvent.cancel();
        while (queue.length > 0) {
          const chunkOut = this.streamEvent(queue.shift() as EventSourceMessage, opts.model);
          if (chunkOut) yield chunkOut;
        }
      }
      parser.feed(decoder.decode());
      parser.reset({ consume: true });
      events += queue.length;
      if (events === 0) throw this.emptyStreamError(attempt.response.statusCode, head, opts.model);
      while (queue.length > 0) {
        const chunkOut = this.streamEvent(queue.shift() as EventSourceMessage, opts.model);
        if (chunkOut) yield chunkOut;
      }
      finished = true;
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      if (opts.signal?.aborted) throw abortedError(method, e);
      if (stalled) throw stallError(method, firstByteMs);
      throw networkError(method, e);
    } finally {
      firstEvent.cancel();
      if (!finished) attempt.abort();
      attempt.cleanup();
    }
  }

  /** A 2xx stream without a single SSE event: a JSON error body in disguise, or junk. */
  private emptyStreamError(status: number, head: string, model: string): ProviderError {
    const trimmed = head.trim();
    if (trimmed.startsWith('{')) {
      try {
        const data = JSON.parse(trimmed) as unknown;
        if (typeof data === 'object' && data !== null && 'error' in data) {
          const code = (data as { error?: { code?: unknown } }).error?.code;
          return classifyError({
            status: typeof code === 'number' ? code : status,
            body: data,
            now: this.clock.now(),
            model,
            method: 'streamGenerateContent',
          });
        }
      } catch {
        // Not JSON either: fall through.
      }
    }
    return new ProviderError(
      'invalid-response',
      `streamGenerateContent answered ${status} without any server-sent event (${trimmed.length} bytes); the upstream API may have changed.`,
      { status, model },
    );
  }

  private streamEvent(event: EventSourceMessage, model: string): GenerateContentResponse | undefined {
    const text = event.data.trim();
    if (text.length === 0 || text === '[DONE]') return undefined;
    const data = parseJsonText(text, 'streamGenerateContent');
    if (typeof data === 'object' && data !== null && 'error' in data && !('response' in data)) {
      const code = (data as { error?: { code?: unknown } }).error?.code;
      throw classifyError({
        status: typeof code === 'number' ? code : 500,
        body: data,
        now: this.clock.now(),
        model,
        method: 'streamGenerateContent',
      });
    }
    return parseUpstream(GenerateContentEnvelopeSchema, data, 'streamGenerateContent').response;
  }

  private async callJson(method: string, body: unknown, opts: CallOptions, model?: string): Promise<unknown> {
    const attempt = await this.sendWithUserProject(method, body, opts, model === undefined ? {} : { model });
    try {
      const text = await attempt.response.body.text();
      return parseJsonText(text, method);
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      if (opts.signal?.aborted) throw abortedError(method, e);
      throw networkError(method, e);
    } finally {
      attempt.cleanup();
    }
  }

  private pool(base: URL): Pool {
    let pool = this.pools.get(base.origin);
    if (!pool) {
      pool = new Pool(base.origin, {
        connections: this.options.connections ?? 16,
        connect: { timeout: this.timeouts.connectMs },
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyIdleMs,
        keepAliveTimeout: 30_000,
      });
      this.pools.set(base.origin, pool);
    }
    return pool;
  }

  /** `send`, retried once without `x-goog-user-project` after a plain 403 (some accounts refuse it). */
  private async sendWithUserProject(
    method: string,
    body: unknown,
    opts: CallOptions,
    extra: { query?: string; model?: string; firstByteMs?: number },
  ): Promise<Attempt> {
    try {
      return await this.send(method, body, opts, extra);
    } catch (e) {
      if (!(opts.userProject && e instanceof ProviderError && e.kind === 'forbidden')) throw e;
      this.options.logger?.debug(`${method}: 403 with x-goog-user-project, retrying without it`);
      const { userProject: _dropped, ...rest } = opts;
      return this.send(method, body, rest, extra);
    }
  }

  /**
   * Sends one call: every base in order until one answers 2xx, falling back on 404 / 408 / 5xx /
   * network errors (and 429 when configured); on 401 refreshes the token once and retries once.
   * Returns the 2xx response with its body unread.
   */
  private async send(
    method: string,
    body: unknown,
    opts: CallOptions,
    extra: { query?: string; model?: string; firstByteMs?: number },
  ): Promise<Attempt> {
    let payload: string;
    try {
      payload = JSON.stringify(body);
    } catch (e) {
      // Our side cannot build the call (e.g. a body nested too deep for the serialiser): not an
      // upstream failure, so it must not be retried elsewhere or cool the account down.
      throw new LocalFailure(
        `${method}: the request could not be serialised (${e instanceof Error ? e.message : String(e)})`,
        { cause: e },
      );
    }
    let forceRefresh = false;
    let rejectedToken: string | undefined;
    for (let authTry = 0; authTry < 2; authTry++) {
      if (opts.signal?.aborted) throw abortedError(method, opts.signal.reason);
      const token = await this.options.getAccessToken(opts.accountId, {
        forceRefresh,
        ...(rejectedToken === undefined ? {} : { rejectedToken }),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      let lastError: ProviderError | undefined;
      let unauthorized = false;
      for (const base of this.baseUrls) {
        const controller = new AbortController();
        const onAbort = (): void => controller.abort(opts.signal?.reason);
        if (opts.signal?.aborted) throw abortedError(method, opts.signal.reason);
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const cleanup = (): void => opts.signal?.removeEventListener('abort', onAbort);
        const path = `${base.pathname.replace(/\/+$/, '')}/v1internal:${method}${extra.query ? `?${extra.query}` : ''}`;
        let response: RawResponse;
        try {
          response = await this.pool(base).request({
            method: 'POST',
            path,
            headers: this.headers(token, opts, extra.query !== undefined),
            body: payload,
            signal: controller.signal,
            ...(extra.firstByteMs === undefined ? {} : { headersTimeout: extra.firstByteMs }),
          });
        } catch (e) {
          cleanup();
          if (opts.signal?.aborted) throw abortedError(method, e);
          if (
            extra.firstByteMs !== undefined &&
            (e as { code?: unknown } | null)?.code === 'UND_ERR_HEADERS_TIMEOUT'
          ) {
            throw stallError(method, extra.firstByteMs);
          }
          lastError = networkError(method, e);
          this.options.logger?.debug(
            `${method}: ${base.origin} failed (${lastError.message}); trying the next base`,
          );
          continue;
        }
        const status = response.statusCode;
        if (status >= 200 && status < 300) {
          return { response, abort: () => controller.abort(), cleanup };
        }
        let errorText = '';
        try {
          errorText = await response.body.text();
        } catch {
          // The status says enough.
        } finally {
          cleanup();
        }
        const error = classifyError({
          status,
          headers: response.headers,
          body: errorText,
          now: this.clock.now(),
          method,
          ...(extra.model === undefined ? {} : { model: extra.model }),
        });
        if (status === 401) {
          unauthorized = true;
          lastError = error;
          rejectedToken = token;
          break;
        }
        const fallback =
          status === 404 || status === 408 || status >= 500 || (status === 429 && this.options.fallbackOn429);
        if (!fallback) throw error;
        lastError = error;
        this.options.logger?.debug(`${method}: ${base.origin} answered ${status}; trying the next base`);
      }
      if (!unauthorized) throw lastError ?? new ProviderError('transient', `${method}: no base URL answered`);
      if (authTry === 1) {
        throw new ProviderError(
          'auth-expired',
          `${method}: the access token was rejected again after a refresh (401); sign in to the account again.`,
          { status: 401, cause: lastError },
        );
      }
      forceRefresh = true;
    }
    /* c8 ignore next */
    throw new ProviderError('transient', `${method}: unreachable`);
  }

  private headers(token: string, opts: CallOptions, sse: boolean): Record<string, string> {
    const h: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'user-agent': this.userAgent,
      accept: sse ? 'text/event-stream' : 'application/json',
    };
    if (opts.userProject) h['x-goog-user-project'] = opts.userProject;
    return h;
  }
}

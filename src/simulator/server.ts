/**
 * The simulator's HTTP server (node:http): Cloud Code `v1internal` methods, OAuth endpoints, and
 * the `/_simulator/` control API (loopback only).
 *
 * Onboarding operations can be polled three ways, as tools do: POST `/v1internal:onboardUser` again
 * (same account → same operation), POST `/v1internal:getOperation` with `{"name"}`, or
 * GET `/v1internal/{name}` (e.g. `/v1internal/operations/onboard-00000001`). Each poll counts; the
 * operation is done after the scenario's `onboarding.pollsUntilDone` polls.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { SUMMARY_GROUP_NAMES } from '../core/catalog';
import type { AccountRuntime, SimulatorCore } from './core';
import { formatTimestamp } from './durations';
import type { CloudCodeMethod } from './faults';
import { buildAnswer, promptTokens } from './generate';
import * as G from './googleErrors';
import type { FaultSpec } from './scenario';
import {
  CountTokensBodySchema,
  GenerateEnvelopeSchema,
  GetOperationBodySchema,
  LoadCodeAssistBodySchema,
  OnboardUserBodySchema,
  ProjectBodySchema,
  type Part,
} from './wire';
import { schemaProblems } from './schemaCheck';

const MAX_BODY_BYTES = 20 * 1024 * 1024;
const METHODS = new Set<CloudCodeMethod>([
  'loadCodeAssist',
  'onboardUser',
  'getOperation',
  'fetchAvailableModels',
  'retrieveUserQuotaSummary',
  'generateContent',
  'streamGenerateContent',
  'countTokens',
]);

class HttpFailure extends Error {
  constructor(readonly failure: G.GoogleError) {
    super(failure.body.error.message);
  }
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export class SimulatorHttp {
  readonly server: Server;

  constructor(
    private readonly core: SimulatorCore,
    private readonly log: (line: string) => void,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log(`simulator: internal error: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) this.sendError(res, G.internal());
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/_simulator/'))
      return this.handleControl(req, res, path.slice('/_simulator/'.length));
    if (req.method === 'GET' && path === '/o/oauth2/v2/auth') return this.handleAuthorize(res, url);
    if (path === '/token') return this.handleToken(req, res);
    if (req.method === 'GET' && path === '/oauth2/v2/userinfo') {
      this.core.countRequest('userinfo');
      const reply = this.core.oauth.userinfo(req.headers.authorization);
      return this.sendJson(res, reply.status, reply.body);
    }
    const m = /^\/v1internal:([A-Za-z]+)$/.exec(path);
    if (req.method === 'POST' && m && METHODS.has(m[1] as CloudCodeMethod)) {
      return this.handleCloudCode(req, res, m[1] as CloudCodeMethod, url);
    }
    const op = /^\/v1internal\/(operations\/[A-Za-z0-9_-]+)$/.exec(path);
    if (req.method === 'GET' && op) return this.handleCloudCode(req, res, 'getOperation', url, op[1]);
    await drain(req);
    this.sendError(res, G.notFound(`Method or path not found: ${req.method ?? ''} ${path}`));
  }

  // ---------------------------------------------------------------- Cloud Code

  private async handleCloudCode(
    req: IncomingMessage,
    res: ServerResponse,
    method: CloudCodeMethod,
    url: URL,
    operationName?: string,
  ): Promise<void> {
    const core = this.core;
    core.countRequest(method);
    let accountId: string | undefined;
    let model: string | undefined;
    try {
      const text = req.method === 'POST' ? (await readBody(req)).toString('utf8') : '';
      accountId = core.oauth.authenticate(req.headers.authorization);
      if (accountId === undefined) throw new HttpFailure(G.unauthenticated());
      const raw = parseJsonText(text);
      const account = core.account(accountId);
      if (method === 'generateContent' || method === 'streamGenerateContent') {
        const body = parse(GenerateEnvelopeSchema, raw);
        model = body.model;
        return await this.generate(
          res,
          account,
          body,
          method === 'streamGenerateContent' && url.searchParams.get('alt') === 'sse',
          method,
        );
      }
      const rawProject =
        typeof raw === 'object' && raw !== null && 'project' in raw ? raw.project : undefined;
      const fault = core.faults.pick({
        method,
        accountId,
        email: account.config.email,
        now: core.clock.now(),
        hasProject: rawProject !== undefined,
      });
      const shapesModels = fault?.kind === 'models-stuck-full' || fault?.kind === 'models-epoch-reset';
      if (fault && !shapesModels) {
        throw new HttpFailure(this.faultError(fault, method, '', accountId));
      }
      let body: unknown;
      switch (method) {
        case 'loadCodeAssist':
          parse(LoadCodeAssistBodySchema, raw);
          body = this.loadCodeAssist(account);
          break;
        case 'onboardUser':
          body = this.onboardUser(account, parse(OnboardUserBodySchema, raw).tierId);
          break;
        case 'getOperation':
          body = this.pollOperation(account, operationName ?? parse(GetOperationBodySchema, raw).name);
          break;
        case 'fetchAvailableModels':
          this.checkProject(account, parse(ProjectBodySchema, raw).project, false);
          body = this.fetchAvailableModels(account, shapesModels ? fault?.kind : undefined);
          break;
        case 'retrieveUserQuotaSummary':
          this.checkProject(account, parse(ProjectBodySchema, raw).project, true);
          body = this.quotaSummary(account);
          break;
        case 'countTokens':
          body = this.countTokens(raw);
          break;
      }
      this.sendJson(res, 200, body);
      this.log(`${method} ${accountId} -> 200`);
    } catch (err) {
      if (!(err instanceof HttpFailure)) throw err;
      this.sendError(res, err.failure);
      this.log(`${method} ${accountId ?? '-'}${model ? ` ${model}` : ''} -> ${err.failure.httpStatus}`);
    }
  }

  private tierPayload(a: AccountRuntime): { currentTier: unknown; paidTier?: unknown } {
    const cfg = a.config;
    switch (cfg.tier) {
      case 'ULTRA':
        return {
          currentTier: { id: 'standard-tier', name: 'Gemini Code Assist' },
          paidTier: {
            id: cfg.tierId ?? 'g1-ultra-tier',
            name: 'Google AI Ultra',
            availableCredits: [
              { creditType: 'GOOGLE_ONE_AI', creditAmount: '25000', minimumCreditAmountForUsage: '1' },
            ],
          },
        };
      case 'PRO':
        return {
          currentTier: { id: 'standard-tier', name: 'Gemini Code Assist' },
          paidTier: {
            id: cfg.tierId ?? 'g1-pro-tier',
            name: 'Google AI Pro',
            availableCredits: [
              { creditType: 'GOOGLE_ONE_AI', creditAmount: '1000', minimumCreditAmountForUsage: '1' },
            ],
          },
        };
      default:
        return {
          currentTier: {
            id: cfg.tierId ?? 'free-tier',
            name: 'Gemini Code Assist for individuals',
            isDefault: true,
          },
        };
    }
  }

  private loadCodeAssist(a: AccountRuntime): unknown {
    const allowedTiers = [
      {
        id: 'free-tier',
        name: 'Gemini Code Assist for individuals',
        isDefault: true,
        userDefinedCloudaicompanionProject: false,
      },
      { id: 'standard-tier', name: 'Gemini Code Assist', userDefinedCloudaicompanionProject: true },
    ];
    const ineligibleTiers: unknown[] = [];
    if (a.validationUrl) {
      ineligibleTiers.push({
        reasonCode: 'VALIDATION_REQUIRED',
        reasonMessage: 'Verify your account to continue.',
        tierId: 'free-tier',
        tierName: 'Gemini Code Assist for individuals',
        validationUrl: a.validationUrl,
      });
    }
    if (a.banned) {
      ineligibleTiers.push({
        reasonCode: 'INELIGIBLE_ACCOUNT',
        reasonMessage: 'This account has been disabled for violation of Terms of Service.',
        tierId: 'free-tier',
        tierName: 'Gemini Code Assist for individuals',
      });
    }
    const tiers = this.tierPayload(a);
    return {
      ...(a.project === null ? {} : { cloudaicompanionProject: a.project, ...tiers }),
      allowedTiers,
      ...(ineligibleTiers.length > 0 ? { ineligibleTiers } : {}),
      gcpManaged: false,
    };
  }

  private operationBody(op: { name: string; done: boolean; project: string }): unknown {
    return op.done
      ? {
          name: op.name,
          done: true,
          response: {
            '@type': 'type.googleapis.com/google.internal.cloud.code.v1internal.OnboardUserResponse',
            cloudaicompanionProject: { id: op.project, name: op.project },
          },
        }
      : { name: op.name, done: false };
  }

  private onboardUser(a: AccountRuntime, tierId: string): unknown {
    const own = (this.tierPayload(a).paidTier as { id?: string } | undefined)?.id;
    if (!['free-tier', 'standard-tier', a.config.tierId, own].includes(tierId)) {
      throw new HttpFailure(
        G.invalidArgument(
          `tierId "${tierId}" is not one of this account's allowed tiers (free-tier, standard-tier).`,
          [
            {
              field: 'tierId',
              description: 'use the id of the default entry of allowedTiers from loadCodeAssist',
            },
          ],
        ),
      );
    }
    if (a.banned) throw new HttpFailure(G.tosBan());
    if (a.project !== null)
      return this.operationBody({ name: this.core.newOperationName(), done: true, project: a.project });
    const pending = [...this.core.operations.values()].find((o) => o.accountId === a.config.id && !o.done);
    if (pending) return this.pollOperation(a, pending.name);
    const op = {
      name: this.core.newOperationName(),
      accountId: a.config.id,
      polls: 0,
      project: this.core.projectFor(a.config.id),
      done: false,
    };
    this.core.operations.set(op.name, op);
    if (this.core.scenario.onboarding.pollsUntilDone === 0) this.finishOperation(a, op);
    return this.operationBody(op);
  }

  private finishOperation(a: AccountRuntime, op: { done: boolean; project: string }): void {
    op.done = true;
    a.project = op.project;
  }

  private pollOperation(a: AccountRuntime, name: string): unknown {
    const op = this.core.operations.get(name);
    if (!op || op.accountId !== a.config.id)
      throw new HttpFailure(G.notFound(`Operation ${name} not found.`));
    if (!op.done) {
      op.polls += 1;
      if (op.polls >= this.core.scenario.onboarding.pollsUntilDone) this.finishOperation(a, op);
    }
    return this.operationBody(op);
  }

  private checkProject(a: AccountRuntime, project: string | undefined, required: boolean): void {
    if (a.banned) throw new HttpFailure(G.tosBan());
    if (project === undefined) {
      if (required) {
        throw new HttpFailure(
          G.permissionDenied(
            'The caller does not have permission: a project is required; send {"project": "<id from loadCodeAssist>"}.',
          ),
        );
      }
      return;
    }
    if (project !== a.project) {
      throw new HttpFailure(
        G.permissionDenied(
          `Permission denied on resource project ${project}${a.project === null ? ' (the account has no project yet: call onboardUser)' : ''}.`,
        ),
      );
    }
  }

  private fetchAvailableModels(a: AccountRuntime, quirk: FaultSpec['kind'] | undefined): unknown {
    const models: Record<string, unknown> = {};
    for (const m of this.core.catalog) {
      const r = this.core.quota.readPool(a.config.id, m.pool);
      const quotaInfo =
        quirk === 'models-stuck-full'
          ? { remainingFraction: 1, resetTime: formatTimestamp(r.resetTime) }
          : r.fraction <= 0
            ? quirk === 'models-epoch-reset'
              ? { remainingFraction: 0, resetTime: '1970-01-01T00:00:00Z' }
              : { resetTime: formatTimestamp(r.resetTime) }
            : { remainingFraction: round6(r.fraction), resetTime: formatTimestamp(r.resetTime) };
      models[m.id] = {
        displayName: m.displayName,
        modelProvider: `MODEL_PROVIDER_${m.provider === 'google' ? 'GOOGLE' : m.provider === 'anthropic' ? 'ANTHROPIC' : 'OPENAI'}`,
        quotaInfo,
        maxTokens: m.maxTokens,
        maxOutputTokens: m.maxOutputTokens,
        supportsThinking: m.supportsThinking,
        recommended: m.id === 'claude-sonnet-4-6' || m.id === 'gemini-pro-agent' || m.id === 'gemini-3-flash',
      };
    }
    const deprecatedModelIds = Object.fromEntries(
      Object.entries(this.core.deprecated).map(([old, replacement]) => [old, { newModelId: replacement }]),
    );
    return { models, deprecatedModelIds };
  }

  private quotaSummary(a: AccountRuntime): unknown {
    const buckets = this.core.quota.summary(a.config.id);
    const groups = (['gemini', 'third-party'] as const).map((group) => {
      const mine = buckets.filter((b) => b.group === group);
      return {
        displayName: SUMMARY_GROUP_NAMES[group],
        description: `Models within this group: ${(mine[0]?.models ?? []).join(', ')}`,
        buckets: mine.map((b) => ({
          bucketId: b.bucketId,
          window: b.window,
          remainingFraction: round6(b.fraction),
          resetTime: formatTimestamp(b.resetTime),
        })),
      };
    });
    return { groups };
  }

  private countTokens(raw: unknown): unknown {
    if (typeof raw === 'object' && raw !== null && ('model' in raw || 'project' in raw)) {
      throw new HttpFailure(
        G.invalidArgument(
          'Invalid JSON payload received. Unknown name "model" or "project": countTokens takes only {"request": {…}}.',
          [
            {
              field: 'model' in raw ? 'model' : 'project',
              description: 'remove it; put the model inside request',
            },
          ],
        ),
      );
    }
    const body = parse(CountTokensBodySchema, raw);
    const m = body.request.model;
    if (m !== undefined && !this.core.model(m.replace(/^models\//, '')))
      throw new HttpFailure(G.notFound(`Model ${m} not found.`));
    return { totalTokens: promptTokens(body.request.contents) };
  }

  // ---------------------------------------------------------------- generation

  private async generate(
    res: ServerResponse,
    a: AccountRuntime,
    body: z.infer<typeof GenerateEnvelopeSchema>,
    sse: boolean,
    method: CloudCodeMethod,
  ): Promise<void> {
    const core = this.core;
    const model = core.model(body.model);
    if (!model) throw new HttpFailure(G.notFound(`Requested entity was not found. (model ${body.model})`));
    const schemaErrors = schemaProblems(body.request);
    if (schemaErrors.length > 0) throw new HttpFailure(G.invalidArgument(schemaErrors.join('\n')));
    if (a.banned) throw new HttpFailure(G.tosBan());
    if (a.validationUrl) throw new HttpFailure(G.validationRequired(a.validationUrl));
    this.checkProject(a, body.project, true);
    const accountId = a.config.id;
    const fault = core.faults.pick({
      method,
      accountId,
      email: a.config.email,
      model: body.model,
      now: core.clock.now(),
    });
    const transport =
      fault && ['stall', 'connection-reset', 'malformed-json'].includes(fault.kind) ? fault : undefined;
    if (fault && !transport) throw new HttpFailure(this.faultError(fault, method, body.model, accountId));

    const verdict = core.quota.check(accountId, model.id);
    if (!verdict.ok) {
      if (verdict.kind === 'QUOTA_EXHAUSTED') {
        throw new HttpFailure(G.quotaExhausted(body.model, core.clock.now(), verdict.resetTime));
      }
      throw new HttpFailure(G.notFound());
    }
    const answer = buildAnswer(model, body.request, core.scenario.latency.chunks);
    const cost =
      core.scenario.cost.unit === 'requests'
        ? core.scenario.cost.perRequest
        : answer.usage.totalTokenCount * core.scenario.cost.perToken;
    core.quota.deduct(accountId, model.pool, cost);
    core.countGeneration(accountId, answer.usage.totalTokenCount);

    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const lat = core.scenario.latency;
    if (transport?.kind === 'stall') {
      this.log(`${method} ${accountId} ${body.model} -> stall`);
      await new Promise<void>((resolve) => res.on('close', () => resolve()));
      return;
    }
    if (lat.firstByteMs > 0 && !(await pause(lat.firstByteMs, abort.signal))) return;

    const responseId = `sim-${(body.requestId ?? '').slice(-12) || Math.floor(core.clock.now()).toString(36)}`;
    const traceId = responseId.replace(/^sim-/, 'trace-');
    const wrap = (parts: Part[], last: boolean): unknown => ({
      response: {
        candidates: [
          {
            content: { role: 'model', parts },
            ...(last ? { finishReason: answer.finishReason } : {}),
            index: 0,
          },
        ],
        ...(last ? { usageMetadata: answer.usage } : {}),
        modelVersion: model.id,
        responseId,
      },
      traceId,
    });
    core.countStatus(200);

    if (!sse) {
      if (method === 'streamGenerateContent') {
        // Without alt=sse the stream method answers a JSON array of chunks.
        const chunks = answer.chunks.map((p, i) => wrap(p, i === answer.chunks.length - 1));
        return this.finishPlain(res, JSON.stringify(chunks), transport, method, accountId, body.model);
      }
      const all = wrap(mergeText(answer.chunks.flat()), true);
      return this.finishPlain(res, JSON.stringify(all), transport, method, accountId, body.model);
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (let i = 0; i < answer.chunks.length; i++) {
      if (i > 0 && lat.chunkGapMs > 0 && !(await pause(lat.chunkGapMs, abort.signal))) return;
      if (res.destroyed) return;
      const last = i === answer.chunks.length - 1;
      const json = JSON.stringify(wrap(answer.chunks[i] as Part[], last));
      if (transport?.kind === 'malformed-json' && i === Math.min(1, answer.chunks.length - 1)) {
        res.write(`data: ${json.slice(0, Math.floor(json.length / 2))}\n\n`);
        if (last) break;
        continue;
      }
      res.write(`data: ${json}\n\n`);
      if (transport?.kind === 'connection-reset') {
        this.log(`${method} ${accountId} ${body.model} -> reset after first chunk`);
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return;
      }
    }
    res.end();
    this.log(`${method} ${accountId} ${body.model} -> 200 (sse, ${answer.chunks.length} chunks)`);
  }

  private finishPlain(
    res: ServerResponse,
    text: string,
    transport: FaultSpec | undefined,
    method: string,
    accountId: string,
    model: string,
  ): void {
    if (transport?.kind === 'connection-reset') {
      res.writeHead(200, {
        'content-type': 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(text),
      });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
      this.log(`${method} ${accountId} ${model} -> reset mid-body`);
      return;
    }
    const out = transport?.kind === 'malformed-json' ? text.slice(0, Math.floor(text.length / 2)) : text;
    res.writeHead(200, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(out),
    });
    res.end(out);
    this.log(`${method} ${accountId} ${model} -> 200${transport ? ` (${transport.kind})` : ''}`);
  }

  private faultBody(fault: FaultSpec, method: string, model: string, accountId: string): G.GoogleError {
    const now = this.core.clock.now();
    switch (fault.kind) {
      case 'quota-exhausted':
      case 'quota-exhausted-info-second': {
        // An injected exhaustion advertises the 5-hour reset of the model's pool (or 1 hour if unknown).
        const pool = this.core.model(model)?.pool;
        const reset = pool ? this.core.quota.readWindow(accountId, pool, '5h').resetTime : now + 3_600_000;
        return G.quotaExhausted(model, now, reset, fault.kind === 'quota-exhausted-info-second');
      }
      case 'rate-limited':
        return G.rateLimited(model, fault.retryDelayMs ?? 2_000);
      case 'resource-exhausted-bare':
        return G.bareResourceExhausted();
      case 'model-capacity':
        return G.modelCapacityExhausted(model, fault.retryDelayMs ?? 5_000);
      case 'no-capacity':
        return G.noCapacity(model);
      case 'server-error':
        return G.internal();
      case 'token-expired':
        return G.unauthenticated();
      case 'validation-required':
        return G.validationRequired('https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=sim');
      case 'tos-ban':
        return G.tosBan();
      case 'quota-api-outage':
        return G.unavailable(`The service is currently unavailable (${method}).`);
      case 'models-project-forbidden':
        return G.permissionDenied('The caller does not have permission');
      case 'insufficient-credits':
        return G.insufficientCredits(model);
      default:
        return G.internal();
    }
  }

  private faultError(fault: FaultSpec, method: string, model: string, accountId: string): G.GoogleError {
    const e = this.faultBody(fault, method, model, accountId);
    return fault.retryAfterSec === undefined
      ? e
      : { ...e, headers: { ...e.headers, 'retry-after': String(fault.retryAfterSec) } };
  }

  // ---------------------------------------------------------------- OAuth

  private handleAuthorize(res: ServerResponse, url: URL): void {
    this.core.countRequest('authorize');
    const reply = this.core.oauth.authorize(url.searchParams);
    if (reply.location) {
      this.core.countStatus(302);
      res.writeHead(302, { location: reply.location, 'content-type': 'text/plain' });
      res.end(`Redirecting to ${reply.location}`);
      return;
    }
    this.sendJson(res, reply.status, reply.body);
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.core.countRequest('token');
    const text = (await readBody(req)).toString('utf8');
    if (req.method !== 'POST')
      return this.sendJson(res, 405, {
        error: 'invalid_request',
        error_description: 'POST the form to /token.',
      });
    let basic: { id: string; secret: string } | undefined;
    const auth = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (auth) {
      const [id, ...rest] = Buffer.from(auth[1] as string, 'base64')
        .toString('utf8')
        .split(':');
      basic = { id: decodeURIComponent(id ?? ''), secret: decodeURIComponent(rest.join(':')) };
    }
    const reply = this.core.oauth.token(new URLSearchParams(text), basic);
    this.sendJson(res, reply.status, reply.body);
    this.log(`token -> ${reply.status}`);
  }

  // ---------------------------------------------------------------- control

  private async handleControl(req: IncomingMessage, res: ServerResponse, action: string): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      await drain(req);
      return this.sendJson(res, 403, { error: 'the simulator control API answers loopback clients only' });
    }
    const core = this.core;
    let body: Record<string, unknown> = {};
    if (req.method === 'POST') {
      try {
        const raw = await readJson(req);
        body = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
      } catch (err) {
        return this.sendJson(res, 400, {
          error: err instanceof HttpFailure ? err.failure.body.error.message : String(err),
        });
      }
    } else await drain(req);
    try {
      const route = `${req.method ?? ''} ${action}`;
      switch (route) {
        case 'GET state':
          return this.sendJson(res, 200, core.state());
        case 'GET stats':
          return this.sendJson(res, 200, core.stats());
        case 'POST drain':
          core.drain({
            account: str(body.account, 'account'),
            pool: optStr(body.pool),
            model: optStr(body.model),
            toFraction: num(body.toFraction, 'toFraction'),
            window: optStr(body.window) as '5h' | 'weekly' | 'both' | undefined,
          });
          break;
        case 'POST reset':
          core.reset();
          break;
        case 'POST fault':
          core.addFault(body);
          break;
        case 'POST clear-faults':
          core.clearFaults();
          break;
        case 'POST advance':
          await core.advance(num(body.ms, 'ms'));
          break;
        case 'POST expire-tokens':
          return this.sendJson(res, 200, { ok: true, expired: core.expireTokens(optStr(body.account)) });
        case 'POST revoke':
          core.revokeRefreshToken(str(body.account, 'account'));
          break;
        case 'POST account-status':
          core.setAccountStatus(str(body.account, 'account'), {
            banned: typeof body.banned === 'boolean' ? body.banned : undefined,
            validationUrl: body.validationUrl === null ? null : optStr(body.validationUrl),
          });
          break;
        default:
          return this.sendJson(res, 404, {
            error: `unknown control call ${route}: use GET state|stats, POST drain|reset|fault|clear-faults|advance|expire-tokens|revoke|account-status`,
          });
      }
      return this.sendJson(res, 200, { ok: true, state: core.state() });
    } catch (err) {
      return this.sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---------------------------------------------------------------- utilities

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    this.core.countStatus(status);
    res.writeHead(status, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private sendError(res: ServerResponse, e: G.GoogleError): void {
    const text = JSON.stringify(e.body);
    this.core.countStatus(e.httpStatus);
    res.writeHead(e.httpStatus, {
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
      ...e.headers,
    });
    res.end(text);
  }
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new Error(`"${name}" is required (a string)`);
  return v;
}

function optStr(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`"${name}" is required (a number)`);
  return v;
}

/** Joins adjacent plain-text parts, as a non-streamed answer carries them. */
function mergeText(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    const plain = (x: Part): boolean =>
      typeof x.text === 'string' && x.thought !== true && Object.keys(x).length === 1;
    if (prev && plain(prev) && plain(p)) out[out.length - 1] = { text: `${prev.text ?? ''}${p.text ?? ''}` };
    else out.push(p);
  }
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpFailure(G.invalidArgument(`Request body is larger than ${MAX_BODY_BYTES} bytes.`));
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  return parseJsonText((await readBody(req)).toString('utf8'));
}

function parseJsonText(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpFailure(G.invalidArgument(`Invalid JSON payload received. ${(err as Error).message}`));
  }
}

function parse<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const violations = r.error.issues.map((i) => ({
    field: i.path.map(String).join('.') || '(body)',
    description: i.message,
  }));
  throw new HttpFailure(
    G.invalidArgument(
      `Invalid JSON payload received. ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`,
      violations,
    ),
  );
}

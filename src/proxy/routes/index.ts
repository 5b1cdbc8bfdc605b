/** The route table: every path the proxy answers, its metric name and handler. */
import { GeminiCountTokensRequestSchema, type GeminiRequest } from '../../upstream/gemini/schema';
import type { ClientFormat } from '../backend';
import { HttpError } from '../clientErrors';
import { Router } from '../router';
import { parseBody } from '../translate/common';
import * as admin from './admin';
import type { ClientCodec, RouteContext } from './context';
import { handleGenerate } from './generate';
import * as models from './models';

export type RouteHandler = (ctx: RouteContext) => Promise<void>;

/** The translators the routes use, one per client format. */
export type Codecs = Partial<Record<ClientFormat, ClientCodec<unknown>>>;

function need(codecs: Codecs, format: ClientFormat): ClientCodec<unknown> {
  const codec = codecs[format];
  if (!codec) {
    throw new HttpError(
      501,
      `This build of Quota Pilot has no ${format} translator; use another API format.`,
    );
  }
  return codec;
}

/** Model ids in Gemini paths: letters, digits and . - _ (the "models/" prefix is part of the path). */
const MODEL = '(?<model>[A-Za-z0-9._@-]+)';

async function countTokensAnthropic(ctx: RouteContext, codecs: Codecs): Promise<void> {
  const codec = need(codecs, 'anthropic');
  const body = await ctx.json();
  // count_tokens takes a Messages body without max_tokens; the Messages schema requires it.
  const withMax =
    typeof body === 'object' && body !== null && !Array.isArray(body) && !('max_tokens' in body)
      ? { ...body, max_tokens: 1 }
      : body;
  const parsed = codec.parse(withMax);
  const model = ctx.mapModel(codec.model(parsed));
  ctx.log.model = model;
  const result = await ctx.backend.countTokens({
    model,
    request: codec.toGemini(parsed),
    signal: ctx.signal,
    reporter: ctx.reporter,
  });
  ctx.sendJson(200, { input_tokens: result.totalTokens });
}

async function countTokensGemini(ctx: RouteContext): Promise<void> {
  const body = parseBody(GeminiCountTokensRequestSchema, await ctx.json(), 'countTokens request');
  const request: GeminiRequest = body.generateContentRequest ?? { contents: body.contents ?? [] };
  const model = ctx.mapModel(ctx.params.model ?? '');
  ctx.log.model = model;
  const result = await ctx.backend.countTokens({
    model,
    request,
    signal: ctx.signal,
    reporter: ctx.reporter,
  });
  ctx.sendJson(200, { totalTokens: result.totalTokens });
}

async function streamGemini(ctx: RouteContext, codecs: Codecs): Promise<void> {
  if (ctx.url.searchParams.get('alt') !== 'sse') {
    throw new HttpError(
      400,
      'streamGenerateContent is served as server-sent events only; add ?alt=sse to the URL (the Gemini SDKs do).',
    );
  }
  await handleGenerate(ctx, need(codecs, 'gemini'), { model: ctx.params.model ?? '', stream: true });
}

export function buildRouter(codecs: Codecs): Router<RouteHandler> {
  const r = new Router<RouteHandler>();
  // OpenAI
  r.add('POST', /^\/v1\/chat\/completions$/, 'openai.chat', (ctx) =>
    handleGenerate(ctx, need(codecs, 'openai')),
  );
  r.add('GET', /^\/v1\/models$/, 'models.list', models.listModelsV1);
  r.add('GET', /^\/v1\/models\/(?<model>[^/]+)$/, 'models.get', models.getModelV1);
  // Anthropic
  r.add('POST', /^\/v1\/messages$/, 'anthropic.messages', (ctx) =>
    handleGenerate(ctx, need(codecs, 'anthropic')),
  );
  r.add('POST', /^\/v1\/messages\/count_tokens$/, 'anthropic.count_tokens', (ctx) =>
    countTokensAnthropic(ctx, codecs),
  );
  // Gemini
  r.add('POST', new RegExp(`^/v1beta/models/${MODEL}:generateContent$`), 'gemini.generate', (ctx) =>
    handleGenerate(ctx, need(codecs, 'gemini'), { model: ctx.params.model ?? '', stream: false }),
  );
  r.add('POST', new RegExp(`^/v1beta/models/${MODEL}:streamGenerateContent$`), 'gemini.stream', (ctx) =>
    streamGemini(ctx, codecs),
  );
  r.add(
    'POST',
    new RegExp(`^/v1beta/models/${MODEL}:countTokens$`),
    'gemini.count_tokens',
    countTokensGemini,
  );
  r.add('GET', /^\/v1beta\/models$/, 'gemini.models.list', models.listModelsGemini);
  r.add('GET', new RegExp(`^/v1beta/models/${MODEL}$`), 'gemini.models.get', models.getModelGemini);
  // Admin
  r.add('GET', /^\/quota-pilot\/v1\/status$/, 'admin.status', admin.getStatus);
  r.add('GET', /^\/quota-pilot\/v1\/usage$/, 'admin.usage', admin.getUsage);
  r.add('POST', /^\/quota-pilot\/v1\/reservations$/, 'admin.reservations.create', admin.createReservation);
  r.add(
    'DELETE',
    /^\/quota-pilot\/v1\/reservations\/(?<id>[^/]+)$/,
    'admin.reservations.delete',
    admin.deleteReservation,
  );
  r.add('POST', /^\/quota-pilot\/v1\/refresh$/, 'admin.refresh', admin.postRefresh);
  r.add('POST', /^\/quota-pilot\/v1\/cooldowns\/reset$/, 'admin.cooldowns.reset', admin.postCooldownReset);
  return r;
}

/** The route table: every path the proxy answers, its metric name, error format and handler. */
import { HttpError } from '../clientErrors';
import { Router, sharedV1Format } from '../router';
import type {
  ClientCodec,
  ClientFormat,
  Codecs,
  CountTokensCodec,
  ModelsCodec,
  StoredAnswers,
} from '../translate/codec';
import * as admin from './admin';
import type { RouteContext } from './context';
import { handleGenerate } from './generate';
import * as models from './models';

export type RouteHandler = (ctx: RouteContext) => Promise<void>;

function missing(format: ClientFormat, what: string): HttpError {
  return new HttpError(501, `This build of Quota Pilot has no ${format} ${what}; use another API format.`);
}

function need(codecs: Codecs, format: ClientFormat): ClientCodec {
  const codec = codecs[format];
  if (!codec) throw missing(format, 'translator');
  return codec;
}

function needCount(codecs: Codecs, format: ClientFormat): CountTokensCodec {
  const c = need(codecs, format).countTokens;
  if (!c) throw missing(format, 'count-tokens translator');
  return c;
}

function needModels(codecs: Codecs, format: ClientFormat): ModelsCodec {
  const c = need(codecs, format).models;
  if (!c) throw missing(format, 'models list');
  return c;
}

function needStored(codecs: Codecs, format: ClientFormat): StoredAnswers {
  const c = need(codecs, format).stored;
  if (!c) throw missing(format, 'response store');
  return c;
}

/** `GET` / `DELETE /v1/responses/{id}`: a response kept by the Responses codec. */
function storedResponse(codecs: Codecs, remove: boolean): RouteHandler {
  return async (ctx) => {
    const store = needStored(codecs, 'responses');
    const id = ctx.params.id ?? '';
    const found = store.get(id);
    if (found === undefined) {
      throw new HttpError(
        404,
        `No stored response "${id}". Quota Pilot keeps responses in memory only, for a while after their last use, ` +
          'not across restarts and not those created with `store: false`.',
      );
    }
    if (remove) {
      store.delete(id);
      ctx.sendJson(200, { id, object: 'response', deleted: true });
    } else {
      ctx.sendJson(200, found);
    }
  };
}

/** Model ids in Gemini paths: letters, digits and . - _ (the "models/" prefix is part of the path). */
const MODEL = '(?<model>[A-Za-z0-9._@-]+)';
/** The Gemini API answers on /v1beta and /v1 alike (@google/genai 3.x calls /v1 by default). */
const GEMINI = '/(?:v1beta|v1)/models';

async function countTokens(ctx: RouteContext, codec: CountTokensCodec, pathModel?: string): Promise<void> {
  const { model: clientModel, request } = codec.parse(await ctx.json(), pathModel);
  const model = ctx.mapModel(clientModel);
  ctx.log.model = model;
  const result = await ctx.backend.countTokens({
    model,
    request,
    signal: ctx.signal,
    reporter: ctx.reporter,
  });
  ctx.sendJson(200, codec.answer(result.totalTokens));
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
  const generate =
    (format: ClientFormat): RouteHandler =>
    (ctx) =>
      handleGenerate(ctx, need(codecs, format));
  const modelsOf = (ctx: RouteContext): ModelsCodec =>
    needModels(codecs, ctx.format === 'admin' ? 'openai' : ctx.format);
  const listModels: RouteHandler = (ctx) => models.listModels(ctx, modelsOf(ctx));
  const getModel: RouteHandler = (ctx) => models.getModel(ctx, modelsOf(ctx));

  // OpenAI; GET /v1/models[/id] answers in the asking client's format (sharedV1Format)
  r.add('POST', /^\/v1\/chat\/completions$/, 'openai.chat', generate('openai'), 'openai');
  r.add('POST', /^\/v1\/responses$/, 'responses', generate('responses'), 'responses');
  r.add(
    'GET',
    /^\/v1\/responses\/(?<id>[^/]+)$/,
    'responses.get',
    storedResponse(codecs, false),
    'responses',
  );
  r.add(
    'DELETE',
    /^\/v1\/responses\/(?<id>[^/]+)$/,
    'responses.delete',
    storedResponse(codecs, true),
    'responses',
  );
  r.add('GET', /^\/v1\/models$/, 'models.list', listModels, sharedV1Format);
  r.add('GET', /^\/v1\/models\/(?<model>[^/]+)$/, 'models.get', getModel, sharedV1Format);
  // Anthropic
  r.add('POST', /^\/v1\/messages$/, 'anthropic.messages', generate('anthropic'), 'anthropic');
  r.add(
    'POST',
    /^\/v1\/messages\/count_tokens$/,
    'anthropic.count_tokens',
    (ctx) => countTokens(ctx, needCount(codecs, 'anthropic')),
    'anthropic',
  );
  // Gemini
  r.add(
    'POST',
    new RegExp(`^${GEMINI}/${MODEL}:generateContent$`),
    'gemini.generate',
    (ctx) => handleGenerate(ctx, need(codecs, 'gemini'), { model: ctx.params.model ?? '', stream: false }),
    'gemini',
  );
  r.add(
    'POST',
    new RegExp(`^${GEMINI}/${MODEL}:streamGenerateContent$`),
    'gemini.stream',
    (ctx) => streamGemini(ctx, codecs),
    'gemini',
  );
  r.add(
    'POST',
    new RegExp(`^${GEMINI}/${MODEL}:countTokens$`),
    'gemini.count_tokens',
    (ctx) => countTokens(ctx, needCount(codecs, 'gemini'), ctx.params.model ?? ''),
    'gemini',
  );
  r.add('GET', /^\/v1beta\/models$/, 'gemini.models.list', listModels, 'gemini');
  r.add('GET', new RegExp(`^/v1beta/models/${MODEL}$`), 'gemini.models.get', getModel, 'gemini');
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

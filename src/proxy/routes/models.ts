/** Model lists in each client's format, from the backend's catalog. */
import type { ModelInfo } from '../backend';
import { HttpError } from '../clientErrors';
import type { RouteContext } from './context';

/** A fixed creation time for every model (clients only display it). 2026-01-01T00:00:00Z. */
const CREATED_S = 1_767_225_600;
const CREATED_ISO = '2026-01-01T00:00:00Z';

function openaiModel(m: ModelInfo): Record<string, unknown> {
  return { id: m.id, object: 'model', created: CREATED_S, owned_by: m.provider };
}

function anthropicModel(m: ModelInfo): Record<string, unknown> {
  return { type: 'model', id: m.id, display_name: m.displayName, created_at: CREATED_ISO };
}

function geminiModel(m: ModelInfo): Record<string, unknown> {
  return {
    name: `models/${m.id}`,
    baseModelId: m.id,
    version: '1',
    displayName: m.displayName,
    ...(m.maxTokens === undefined ? {} : { inputTokenLimit: m.maxTokens }),
    ...(m.maxOutputTokens === undefined ? {} : { outputTokenLimit: m.maxOutputTokens }),
    supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
  };
}

/** GET /v1/models: OpenAI's list, or Anthropic's when the client sends `anthropic-version`. */
export async function listModelsV1(ctx: RouteContext): Promise<void> {
  const models = await ctx.backend.listModels();
  if (ctx.format === 'anthropic') {
    ctx.sendJson(200, {
      data: models.map(anthropicModel),
      has_more: false,
      first_id: models[0]?.id ?? null,
      last_id: models[models.length - 1]?.id ?? null,
    });
    return;
  }
  ctx.sendJson(200, { object: 'list', data: models.map(openaiModel) });
}

async function findModel(ctx: RouteContext, id: string): Promise<ModelInfo> {
  const models = await ctx.backend.listModels();
  const found = models.find((m) => m.id === id) ?? models.find((m) => m.id === ctx.mapModel(id));
  if (!found) {
    throw new HttpError(
      404,
      `Model "${id}" is not in the catalog; list the models with GET /v1/models (or /v1beta/models).`,
    );
  }
  return found;
}

/** GET /v1/models/{model}. */
export async function getModelV1(ctx: RouteContext): Promise<void> {
  const m = await findModel(ctx, ctx.params.model ?? '');
  ctx.sendJson(200, ctx.format === 'anthropic' ? anthropicModel(m) : openaiModel(m));
}

/** GET /v1beta/models. */
export async function listModelsGemini(ctx: RouteContext): Promise<void> {
  const models = await ctx.backend.listModels();
  ctx.sendJson(200, { models: models.map(geminiModel) });
}

/** GET /v1beta/models/{model}. */
export async function getModelGemini(ctx: RouteContext): Promise<void> {
  ctx.sendJson(200, geminiModel(await findModel(ctx, ctx.params.model ?? '')));
}

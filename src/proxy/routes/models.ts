/** Model lists in each client's format, from the backend's catalog (the shape is the codec's). */
import type { ModelInfo } from '../backend';
import { HttpError } from '../clientErrors';
import type { ModelsCodec } from '../translate/codec';
import type { RouteContext } from './context';

/** GET …/models: the catalog in the codec's shape. */
export async function listModels(ctx: RouteContext, codec: ModelsCodec): Promise<void> {
  ctx.sendJson(200, codec.list(await ctx.backend.listModels()));
}

/** GET …/models/{model}: one model in the codec's shape, by id or by the alias a client sends. */
export async function getModel(ctx: RouteContext, codec: ModelsCodec): Promise<void> {
  ctx.sendJson(200, codec.one(await findModel(ctx, ctx.params.model ?? '')));
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

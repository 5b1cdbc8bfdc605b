/**
 * Model lists in each client's format (the shape is the codec's): the upstream's catalog plus the
 * client names that resolve.
 */
import type { ModelInfo } from '../backend';
import type { ModelsCodec } from '../translate/codec';
import type { RouteContext } from './context';

/**
 * The catalog, then each alias (a name clients send that resolves) as an entry of its own, carrying
 * the target's limits and a display name saying what serves it.
 */
async function modelsWithAliases(ctx: RouteContext): Promise<ModelInfo[]> {
  const models = await ctx.backend.listModels();
  const byId = new Map(models.map((m) => [m.id, m]));
  const aliases = ctx.modelAliases().flatMap(({ alias, model }): ModelInfo[] => {
    const target = byId.get(model);
    if (!target || byId.has(alias)) return [];
    return [{ ...target, id: alias, displayName: `${alias} (served by ${target.displayName})` }];
  });
  return [...models, ...aliases];
}

/** GET …/models: the catalog and the aliases in the codec's shape. */
export async function listModels(ctx: RouteContext, codec: ModelsCodec): Promise<void> {
  ctx.sendJson(200, codec.list(await modelsWithAliases(ctx)));
}

/** GET …/models/{model}: one model in the codec's shape, by id or by the alias a client sends. */
export async function getModel(ctx: RouteContext, codec: ModelsCodec): Promise<void> {
  ctx.sendJson(200, codec.one(await findModel(ctx, ctx.params.model ?? '')));
}

/** A catalog model by id, or the model a client name resolves to (under the name asked for). */
async function findModel(ctx: RouteContext, id: string): Promise<ModelInfo> {
  const models = await ctx.backend.listModels();
  const exact = models.find((m) => m.id === id);
  if (exact) return exact;
  const target = ctx.mapModel(id); // 404 naming what is available when nothing fits
  const found = models.find((m) => m.id === target);
  return found
    ? { ...found, id, displayName: `${id} (served by ${found.displayName})` }
    : { id, displayName: id, provider: 'google' };
}

/** The admin API under /quota-pilot/v1/ (same local key), delegating to the backend's admin hooks. */
import { z } from 'zod';
import { formatIssues } from '../../core/errors';
import { HttpError } from '../clientErrors';
import type { RouteContext } from './context';

const DAY_MS = 24 * 3_600_000;

export const ReservationBodySchema = z.strictObject({
  model: z.string().min(1).max(200),
  tokens: z.number().int().positive().max(100_000_000),
  ttlMs: z
    .number()
    .int()
    .positive()
    .max(7 * DAY_MS)
    .optional(),
  accountId: z.string().min(1).max(200).optional(),
  label: z.string().min(1).max(200).optional(),
});

export const RefreshBodySchema = z.strictObject({
  accountId: z.string().min(1).max(200).optional(),
});

export const CooldownResetBodySchema = z.strictObject({
  accountId: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(200).optional(),
});

const ReservationIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:-]+$/, 'a reservation id holds letters, digits and . : - _ only');

function validate<S extends z.ZodType>(schema: S, body: unknown, example: string): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw new HttpError(400, `Invalid request body: ${formatIssues(r.error.issues)}. Example: ${example}`);
}

/** Reads an optional JSON body: an empty body counts as `{}`. */
async function optionalJson(ctx: RouteContext): Promise<unknown> {
  const len = Number(ctx.req.headers['content-length'] ?? '0');
  const chunked = ctx.req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (!Number.isFinite(len) || len === 0)) return {};
  return ctx.json();
}

export async function getStatus(ctx: RouteContext): Promise<void> {
  ctx.sendJson(200, await ctx.backend.admin.status());
}

export async function getUsage(ctx: RouteContext): Promise<void> {
  ctx.sendJson(200, await ctx.backend.admin.usage());
}

export async function createReservation(ctx: RouteContext): Promise<void> {
  const body = validate(
    ReservationBodySchema,
    await ctx.json(),
    '{"model": "gemini-3-pro-high", "tokens": 200000, "ttlMs": 3600000}',
  );
  // Reserve under the upstream id the name resolves to (a 404 for a model nobody offers).
  const model = ctx.mapModel(body.model);
  ctx.log.model = model;
  ctx.sendJson(201, await ctx.backend.admin.createReservation({ ...body, model }));
}

export async function deleteReservation(ctx: RouteContext): Promise<void> {
  const id = ReservationIdSchema.safeParse(ctx.params.id);
  if (!id.success) {
    throw new HttpError(400, `Invalid reservation id: ${formatIssues(id.error.issues)}.`);
  }
  const released = await ctx.backend.admin.releaseReservation(id.data);
  if (!released) {
    throw new HttpError(
      404,
      `No reservation has id "${id.data}"; it may have expired or been consumed. List them with GET /quota-pilot/v1/status.`,
    );
  }
  ctx.sendJson(200, { id: id.data, released: true });
}

export async function postRefresh(ctx: RouteContext): Promise<void> {
  const body = validate(RefreshBodySchema, await optionalJson(ctx), '{} or {"accountId": "…"}');
  ctx.sendJson(200, await ctx.backend.admin.refreshNow(body.accountId));
}

export async function postCooldownReset(ctx: RouteContext): Promise<void> {
  const body = validate(
    CooldownResetBodySchema,
    await optionalJson(ctx),
    '{} (all), {"accountId": "…"} or {"accountId": "…", "model": "…"}',
  );
  ctx.sendJson(200, await ctx.backend.admin.resetCooldowns(body));
}

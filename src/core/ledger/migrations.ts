/**
 * Versions of the ledger document and how each older one becomes the current one. Pure: stores
 * call `migrateLedgerDoc` on whatever JSON they read.
 *
 * - v0 (no `version` field): the first prototype. One account, one UTC day:
 *   `{ lastReset: "<ISO start of the UTC day>", usage: { "<model>": { requests, tokens } }, alertsFired: [50, 80] }`.
 * - v1: several accounts, still one UTC day, no provider windows:
 *   `{ version: 1, savedAt, day: { start, end }, usage: [{ account, model, requests, inputTokens, outputTokens, errors }],
 *      firedAlerts: [{ account, model, level, firedAt }] }`.
 * - v2 (current, `LedgerDocSchema`): counters per account × model × window instance (daily and the
 *   provider's 5-hour / weekly windows), provider readings, full alert records, API-set limits.
 */
import { z } from 'zod';
import { formatIssues } from '../errors';
import { AccountIdSchema, EpochMsSchema } from '../types';
import { LEDGER_DOC_VERSION, LedgerDocSchema } from './schema';
import type { Counter, LedgerAlert, LedgerDoc } from './schema';
import { alertId } from './alerts';

/** The account v0 usage is attributed to (v0 knew only one). */
export const V0_ACCOUNT = 'default';

const DAY_MS = 24 * 3_600_000;
const Count = z.number().int().nonnegative();

const V0Schema = z.object({
  lastReset: z.iso.datetime({ offset: true }),
  usage: z.record(z.string().min(1), z.object({ requests: Count, tokens: Count.default(0) })),
  alertsFired: z.array(z.number().gt(0).lte(100)).default([]),
});

const V1Schema = z.object({
  version: z.literal(1),
  savedAt: EpochMsSchema,
  day: z.object({ start: EpochMsSchema, end: EpochMsSchema }),
  usage: z.array(
    z.object({
      account: AccountIdSchema,
      model: z.string().min(1),
      requests: Count,
      inputTokens: Count,
      outputTokens: Count,
      errors: Count.default(0),
    }),
  ),
  firedAlerts: z.array(
    z.object({
      account: AccountIdSchema,
      model: z.string().min(1),
      level: z.number().gt(0).lte(100),
      firedAt: EpochMsSchema,
    }),
  ),
});
type V1 = z.infer<typeof V1Schema>;

function v0ToV1(v0: z.infer<typeof V0Schema>): V1 {
  const start = Date.parse(v0.lastReset);
  const models = Object.keys(v0.usage);
  return {
    version: 1,
    savedAt: start,
    day: { start, end: start + DAY_MS },
    usage: models.map((model) => ({
      account: V0_ACCOUNT,
      model,
      requests: v0.usage[model]?.requests ?? 0,
      // v0 did not split tokens: count them as input.
      inputTokens: v0.usage[model]?.tokens ?? 0,
      outputTokens: 0,
      errors: 0,
    })),
    // v0 fired alerts for the account as a whole: mark them on every model it used.
    firedAlerts: models.flatMap((model) =>
      v0.alertsFired.map((level) => ({ account: V0_ACCOUNT, model, level, firedAt: start })),
    ),
  };
}

function v1ToV2(v1: V1): LedgerDoc {
  const { start, end } = v1.day;
  const counters: Counter[] = v1.usage.map((u) => ({
    account: u.account,
    model: u.model,
    window: 'daily',
    start,
    end,
    requests: u.requests,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    thinkingTokens: 0,
    errors: u.errors,
    firstAt: start,
    lastAt: Math.max(start, Math.min(v1.savedAt, end - 1)),
  }));
  const firedAlerts: LedgerAlert[] = v1.firedAlerts.map((a) => ({
    id: alertId(a.account, a.model, 'limit', 'daily', start, a.level),
    account: a.account,
    model: a.model,
    level: a.level,
    exhausted: a.level >= 100,
    // v1 kept no amounts: the alert is kept so it does not fire again today.
    used: 0,
    remaining: 0,
    unit: 'percent',
    resetTime: end,
    source: 'limit',
    window: 'daily',
    scope: 'daily limit (migrated from an older ledger file)',
    firedAt: a.firedAt,
  }));
  return {
    version: 2,
    savedAt: v1.savedAt,
    counters,
    providerWindows: [],
    providerFractions: [],
    firedAlerts,
    limits: null,
  };
}

export type MigrationResult =
  | { ok: true; doc: LedgerDoc; fromVersion: number }
  | { ok: false; kind: 'corrupt' | 'unsupported-version'; message: string };

/** Turns parsed JSON of any known version into the current document, or says why it cannot. */
export function migrateLedgerDoc(raw: unknown): MigrationResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, kind: 'corrupt', message: 'the content is not a JSON object' };
  }
  const version = (raw as { version?: unknown }).version;
  if (version === undefined) {
    const r = V0Schema.safeParse(raw);
    if (!r.success)
      return {
        ok: false,
        kind: 'corrupt',
        message: `not a ledger document: ${formatIssues(r.error.issues)}`,
      };
    return { ok: true, doc: v1ToV2(v0ToV1(r.data)), fromVersion: 0 };
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    return {
      ok: false,
      kind: 'corrupt',
      message: `"version" must be a whole number, got ${JSON.stringify(version)}`,
    };
  }
  if (version > LEDGER_DOC_VERSION) {
    return {
      ok: false,
      kind: 'unsupported-version',
      message: `the ledger file has version ${version}, written by a newer Quota Pilot; this one reads up to version ${LEDGER_DOC_VERSION}. Update Quota Pilot — the file is left untouched.`,
    };
  }
  if (version === 1) {
    const r = V1Schema.safeParse(raw);
    if (!r.success)
      return {
        ok: false,
        kind: 'corrupt',
        message: `not a version 1 ledger: ${formatIssues(r.error.issues)}`,
      };
    return { ok: true, doc: v1ToV2(r.data), fromVersion: 1 };
  }
  if (version === LEDGER_DOC_VERSION) {
    const r = LedgerDocSchema.safeParse(raw);
    if (!r.success) {
      return {
        ok: false,
        kind: 'corrupt',
        message: `not a version ${version} ledger: ${formatIssues(r.error.issues)}`,
      };
    }
    return { ok: true, doc: r.data, fromVersion: version };
  }
  return { ok: false, kind: 'corrupt', message: `unknown ledger version ${version}` };
}

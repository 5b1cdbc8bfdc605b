/**
 * The ledger's vocabulary as zod schemas: configuration (time zone, alert thresholds, limits), the
 * persisted document (current version and its parts), alerts, reservations and the daily summary.
 * Everything that crosses a boundary (settings, the admin API, the file on disk, the UI) is
 * validated against these.
 */
import { z } from 'zod';
import { ConfigError, formatIssues } from '../errors';
import { AccountIdSchema, EpochMsSchema, FractionSchema, QuotaWindowSchema } from '../types';
import { isValidTimeZone } from './timeWindows';

/** The windows usage is counted in: the local calendar day, and the provider's 5-hour / weekly windows. */
export const LedgerWindowSchema = z.enum(['daily', '5h', 'weekly'], {
  error: (iss) => `unknown window ${JSON.stringify(iss.input)}: use "daily", "5h" or "weekly"`,
});
export type LedgerWindow = z.infer<typeof LedgerWindowSchema>;

export { QuotaWindowSchema as ProviderWindowKindSchema };

const CountSchema = z.number().int().nonnegative();

const positiveInt = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be a whole number` })
    .positive({ error: `${what} must be greater than 0 (leave it out for no ${what} limit)` });

/**
 * A user limit. Its scope follows from the selectors: neither `account` nor `pool` → global; only
 * `account` → that account, every model; only `pool` → that model group on every account together;
 * both → that model group on that account.
 */
export const LimitSchema = z
  .strictObject({
    account: AccountIdSchema.optional(),
    /** A model group (quota pool) as `poolOf` names it, e.g. "claude", "gemini-pro". */
    pool: z
      .string()
      .min(1, { error: 'pool must not be empty (leave it out for every model group)' })
      .optional(),
    window: LedgerWindowSchema,
    requests: positiveInt('requests').optional(),
    tokens: positiveInt('tokens').optional(),
  })
  .refine((l) => l.requests !== undefined || l.tokens !== undefined, {
    error: 'a limit needs "requests" and/or "tokens", e.g. {"window": "daily", "requests": 500}',
  });
export type Limit = z.infer<typeof LimitSchema>;

export const LimitListSchema = z.array(LimitSchema);

/** Alert thresholds in percent used: ascending, each in (0, 100]. */
export const ThresholdListSchema = z
  .array(
    z
      .number({ error: 'a threshold must be a number of percent' })
      .gt(0, { error: 'a threshold must be above 0%' })
      .lte(100, { error: 'a threshold must be at most 100%' }),
  )
  .refine((list) => list.every((v, i) => i === 0 || v > (list[i - 1] as number)), {
    error: 'thresholds must be strictly ascending, e.g. [50, 80, 90]',
  });

export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = Object.freeze([50, 80, 90]);

export const LedgerConfigSchema = z.strictObject({
  /** IANA zone whose midnight resets the daily window. */
  timeZone: z
    .string()
    .refine(isValidTimeZone, { error: 'unknown time zone: use an IANA name such as "UTC" or "Europe/Paris"' })
    .default('UTC'),
  thresholds: ThresholdListSchema.default([...DEFAULT_ALERT_THRESHOLDS]),
  limits: LimitListSchema.default([]),
  /** How long finished windows and fired alerts are kept. */
  retentionDays: z.number().int().min(1).max(366).default(35),
  /** Debounce of writes to a store that rewrites the whole document (no journal). */
  saveDelayMs: z.number().int().min(0).max(600_000).default(1_000),
  /**
   * Longest time a change waits before it is appended to a store's journal (and synced to disk):
   * what a hard crash can lose at most. Only for stores with a journal.
   */
  journalDelayMs: z.number().int().min(0).max(60_000).default(100),
  /** Append at once when this many changes are waiting, whatever the delay. */
  journalBatch: z.number().int().min(1).max(100_000).default(500),
});
export type LedgerConfig = z.infer<typeof LedgerConfigSchema>;
export type LedgerConfigInput = z.input<typeof LedgerConfigSchema>;

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, what: string, setting?: string): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new ConfigError(`Invalid ${what}: ${formatIssues(r.error.issues)}`, setting);
  return r.data;
}

/** Validates ledger settings; throws `ConfigError` saying what is wrong. */
export function parseLedgerConfig(input: unknown = {}): LedgerConfig {
  return parseOrThrow(LedgerConfigSchema, input, 'usage ledger settings');
}

/** Validates a list of limits; throws `ConfigError` saying what is wrong. */
export function parseLimits(input: unknown): Limit[] {
  return parseOrThrow(LimitListSchema, input, 'usage limits', 'quotaPilot.ledger.limits');
}

/** Validates a threshold list; throws `ConfigError` saying what is wrong. */
export function parseThresholds(input: unknown): number[] {
  return parseOrThrow(ThresholdListSchema, input, 'alert thresholds', 'quotaPilot.ledger.alertThresholds');
}

// ---------------------------------------------------------------------------------------------
// The persisted document (current version).

export const LEDGER_DOC_VERSION = 2;

/** Usage of one account × model in one window instance. */
export const CounterSchema = z.object({
  account: AccountIdSchema,
  model: z.string().min(1),
  window: LedgerWindowSchema,
  /** Start of the window instance (identifies it together with account, model and window). */
  start: EpochMsSchema,
  /** When the window resets. */
  end: EpochMsSchema,
  requests: CountSchema,
  inputTokens: CountSchema,
  outputTokens: CountSchema,
  thinkingTokens: CountSchema,
  errors: CountSchema,
  firstAt: EpochMsSchema,
  lastAt: EpochMsSchema,
});
export type Counter = z.infer<typeof CounterSchema>;

/** The provider's 5-hour or weekly window of one account's model group, as learned or estimated. */
export const ProviderWindowSchema = z.object({
  account: AccountIdSchema,
  pool: z.string().min(1),
  window: QuotaWindowSchema,
  start: EpochMsSchema,
  resetTime: EpochMsSchema,
  /** True while no provider reading confirmed the reset time (estimated from the first use). */
  estimated: z.boolean(),
});
export type ProviderWindow = z.infer<typeof ProviderWindowSchema>;

/** The provider's latest remaining fraction of one account × model. */
export const ProviderFractionSchema = z.object({
  account: AccountIdSchema,
  model: z.string().min(1),
  remainingFraction: FractionSchema,
  resetTime: EpochMsSchema.nullable(),
  at: EpochMsSchema,
});
export type ProviderFraction = z.infer<typeof ProviderFractionSchema>;

export const AlertSourceSchema = z.enum(['limit', 'provider']);
export type AlertSource = z.infer<typeof AlertSourceSchema>;

export const AlertSchema = z.object({
  /** Stable: account, model, source, window instance and level. The same id never fires twice. */
  id: z.string().min(1),
  account: AccountIdSchema,
  model: z.string().min(1),
  /** Percent used that was crossed (one of the thresholds, or 100). */
  level: z.number().gt(0).lte(100),
  /** True for the 100% level: nothing is left in this window. */
  exhausted: z.boolean(),
  /** Used amount at firing time, in `unit`. */
  used: z.number().nonnegative(),
  /** The user's limit, in `unit`; absent for provider fractions. */
  limit: z.number().positive().optional(),
  remaining: z.number().nonnegative(),
  unit: z.enum(['requests', 'tokens', 'percent']),
  /** When the window resets; null when the provider did not say. */
  resetTime: EpochMsSchema.nullable(),
  /** Whether the user's limit or the provider's remaining fraction crossed the threshold. */
  source: AlertSourceSchema,
  window: z.enum(['daily', '5h', 'weekly', 'provider']),
  /** Human description of what was measured, e.g. "daily requests limit of account a@x". */
  scope: z.string().min(1),
  firedAt: EpochMsSchema,
});
export type LedgerAlert = z.infer<typeof AlertSchema>;

/** Where a snapshot stands in the journal (see `LedgerDoc.journal`). */
export const JournalMarkSchema = z.object({
  gen: z.string().min(1).max(200),
  offset: z.number().int().nonnegative(),
});
export type JournalMark = z.infer<typeof JournalMarkSchema>;

export const LedgerDocSchema = z.object({
  version: z.literal(LEDGER_DOC_VERSION),
  savedAt: EpochMsSchema,
  /** The zone the daily counters were computed in (readers such as `status` use it). */
  timeZone: z.string().min(1).optional(),
  counters: z.array(CounterSchema),
  providerWindows: z.array(ProviderWindowSchema),
  providerFractions: z.array(ProviderFractionSchema),
  firedAlerts: z.array(AlertSchema),
  /** Limits set through the API (they win over settings while newer); null when never set. */
  limits: z.object({ updatedAt: EpochMsSchema, limits: LimitListSchema }).nullable(),
  /**
   * How much of the append-only journal this snapshot already contains: the journal generation
   * `gen` up to byte `offset`. Absent in files without a journal (and in older files): then every
   * line of the journal is newer than the snapshot.
   */
  journal: JournalMarkSchema.optional(),
});
export type LedgerDoc = z.infer<typeof LedgerDocSchema>;

// ---------------------------------------------------------------------------------------------
// Inputs and outputs of the ledger's API.

const TokenCountSchema = z.number().int().nonnegative().default(0);

export const UsageRecordSchema = z.object({
  account: AccountIdSchema,
  model: z.string().min(1),
  inputTokens: TokenCountSchema,
  outputTokens: TokenCountSchema,
  thinkingTokens: TokenCountSchema,
  /** True when the request failed (it still counts as a request). */
  error: z.boolean().default(false),
  /** Releases this reservation, when given. */
  reservationId: z.string().min(1).optional(),
  /** When it happened; defaults to the clock's now. */
  at: EpochMsSchema.optional(),
});
export type UsageRecordInput = z.input<typeof UsageRecordSchema>;
export type UsageRecord = z.infer<typeof UsageRecordSchema>;

export const ReserveAmountSchema = z
  .strictObject({
    requests: z.number().int().nonnegative().optional(),
    tokens: z.number().int().nonnegative().optional(),
  })
  .refine((a) => (a.requests ?? 0) + (a.tokens ?? 0) > 0, {
    error: 'reserve at least one request or one token, e.g. {"requests": 1, "tokens": 8000}',
  });
export type ReserveAmount = z.infer<typeof ReserveAmountSchema>;

export const ReservedSchema = z.object({
  count: CountSchema,
  requests: CountSchema,
  tokens: CountSchema,
});
export type Reserved = z.infer<typeof ReservedSchema>;

export type ReserveResult =
  | { ok: true; id: string; expiresAt: number }
  | {
      ok: false;
      /** A sentence saying which limit would be exceeded, by how much, and when it resets. */
      reason: string;
      limit: Limit;
      unit: 'requests' | 'tokens';
      used: number;
      reserved: number;
      requested: number;
      resetTime: number | null;
    };

export const UsageTotalsSchema = z.object({
  requests: CountSchema,
  inputTokens: CountSchema,
  outputTokens: CountSchema,
  thinkingTokens: CountSchema,
  /** input + output + thinking */
  tokens: CountSchema,
  errors: CountSchema,
  firstAt: EpochMsSchema.nullable(),
  lastAt: EpochMsSchema.nullable(),
});
export type UsageTotals = z.infer<typeof UsageTotalsSchema>;

export const LimitStatusSchema = z.object({
  window: LedgerWindowSchema,
  unit: z.enum(['requests', 'tokens']),
  limit: z.number().positive(),
  used: z.number().nonnegative(),
  reserved: z.number().nonnegative(),
  remaining: z.number().nonnegative(),
  usedPercent: z.number().nonnegative(),
  resetTime: EpochMsSchema.nullable(),
  scope: z.string().min(1),
});
export type LimitStatus = z.infer<typeof LimitStatusSchema>;

export const SummaryRowSchema = UsageTotalsSchema.extend({
  account: AccountIdSchema,
  model: z.string().min(1),
  pool: z.string().min(1),
  /** The most binding user limit for this account × model, or null when none applies. */
  limit: LimitStatusSchema.nullable(),
  /** The provider's latest remaining fraction, when known. */
  provider: z.object({ remainingFraction: FractionSchema, resetTime: EpochMsSchema.nullable() }).nullable(),
  /** Levels (percent) fired today or in the windows still running, ascending. */
  alertsFired: z.array(z.number()),
  reserved: ReservedSchema,
});
export type SummaryRow = z.infer<typeof SummaryRowSchema>;

export const PoolRowSchema = UsageTotalsSchema.extend({
  account: AccountIdSchema,
  pool: z.string().min(1),
});
export type PoolRow = z.infer<typeof PoolRowSchema>;

export const DailySummarySchema = z.object({
  generatedAt: EpochMsSchema,
  timeZone: z.string().min(1),
  /** Local date, YYYY-MM-DD. */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  dayStart: EpochMsSchema,
  /** When the daily window resets. */
  resetTime: EpochMsSchema,
  rows: z.array(SummaryRowSchema),
  pools: z.array(PoolRowSchema),
  totals: UsageTotalsSchema.extend({
    alertsFired: CountSchema,
    reservations: ReservedSchema,
  }),
});
export type DailySummary = z.infer<typeof DailySummarySchema>;

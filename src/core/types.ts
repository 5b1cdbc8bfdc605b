/**
 * The engine's vocabulary, as zod schemas with their inferred types. Every boundary that hands the
 * engine data (the upstream client, the admin API, files on disk, settings) validates against these.
 *
 * Times are milliseconds since the Unix epoch (numbers), fractions are 0..1, and `null` means
 * "unknown" — never "full".
 */
import { z } from 'zod';

export const TierSchema = z.enum(['FREE', 'PRO', 'ULTRA', 'UNKNOWN']);
export type Tier = z.infer<typeof TierSchema>;

/** Higher is better; used by the prioritizer and for sorting in the UI. */
export const TIER_RANK: Readonly<Record<Tier, number>> = { ULTRA: 3, PRO: 2, FREE: 1, UNKNOWN: 0 };

export const AccountStatusSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('active') }),
  /** Out of rotation until the user acts (e.g. "sign in again", or disabled by hand). */
  z.object({ kind: z.literal('disabled'), reason: z.string().min(1) }),
  /** The provider wants the user to verify the account in a browser (VALIDATION_REQUIRED). */
  z.object({
    kind: z.literal('needs-verification'),
    reason: z.string().min(1),
    url: z.string().url().optional(),
  }),
  /** The provider restricted the account (ineligible tiers, terms-of-service ban, forbidden). */
  z.object({ kind: z.literal('restricted'), reason: z.string().min(1), url: z.string().url().optional() }),
]);
export type AccountStatus = z.infer<typeof AccountStatusSchema>;

export const AccountIdSchema = z.string().min(1).max(200);
export type AccountId = z.infer<typeof AccountIdSchema>;

export const AccountSchema = z.object({
  id: AccountIdSchema,
  email: z.string().min(3).max(320),
  /** What the user calls it; defaults to the email. */
  label: z.string().min(1).max(100),
  tier: TierSchema,
  status: AccountStatusSchema,
  /** Cloud Code project, once known. */
  projectId: z.string().min(1).optional(),
});
export type Account = z.infer<typeof AccountSchema>;

export function isUsable(account: Account): boolean {
  return account.status.kind === 'active';
}

/** Where a quota reading came from. */
export const QuotaSourceSchema = z.enum([
  /** `fetchAvailableModels` per-model quotaInfo. */
  'models',
  /** `retrieveUserQuotaSummary` 5-hour bucket of the model's group. */
  'bucket-5h',
  /** `retrieveUserQuotaSummary` weekly bucket of the model's group. */
  'bucket-weekly',
  /** Learned from a response (a 429 body, response headers). */
  'response',
]);
export type QuotaSource = z.infer<typeof QuotaSourceSchema>;

export const FractionSchema = z.number().min(0).max(1);
export const EpochMsSchema = z.number().int().nonnegative();

/** One reading of one model's remaining quota, from one source. */
export const ModelQuotaSchema = z.object({
  model: z.string().min(1),
  /** 0..1; null when the source did not say. */
  remainingFraction: FractionSchema.nullable(),
  /** When this quota resets; null when unknown. */
  resetTime: EpochMsSchema.nullable(),
  source: QuotaSourceSchema,
  fetchedAt: EpochMsSchema,
});
export type ModelQuota = z.infer<typeof ModelQuotaSchema>;

export const QuotaWindowSchema = z.enum(['5h', 'weekly']);
export type QuotaWindow = z.infer<typeof QuotaWindowSchema>;

/** A 5-hour or weekly bucket of `retrieveUserQuotaSummary`, covering a group of models. */
export const QuotaBucketSchema = z.object({
  id: z.string().min(1),
  window: QuotaWindowSchema,
  /** Display name of the group, e.g. "Gemini Models". */
  group: z.string().min(1),
  remainingFraction: FractionSchema.nullable(),
  resetTime: EpochMsSchema.nullable(),
  /** Model ids this bucket covers. */
  models: z.array(z.string().min(1)),
  fetchedAt: EpochMsSchema,
});
export type QuotaBucket = z.infer<typeof QuotaBucketSchema>;

/**
 * Everything a provider reports for one account in one refresh. `models` may hold several readings
 * per model (one per source); buckets are already mapped onto their models as readings too.
 */
export const QuotaReportSchema = z.object({
  accountId: AccountIdSchema,
  fetchedAt: EpochMsSchema,
  models: z.array(ModelQuotaSchema),
  buckets: z.array(QuotaBucketSchema),
});
export type QuotaReport = z.infer<typeof QuotaReportSchema>;

/** What `loadCodeAssist` (or its equivalent) says about an account. */
export const TierReportSchema = z.object({
  tier: TierSchema,
  projectId: z.string().min(1).optional(),
  /** Set when the provider restricts the account or wants it verified. */
  status: AccountStatusSchema.optional(),
});
export type TierReport = z.infer<typeof TierReportSchema>;

export const DecisionKindSchema = z.enum(['proceed', 'low-quota', 'exhausted']);
export type DecisionKind = z.infer<typeof DecisionKindSchema>;

export const FreshnessSchema = z.enum(['fresh', 'stale', 'missing']);
export type Freshness = z.infer<typeof FreshnessSchema>;

export const DecisionSchema = z.object({
  kind: DecisionKindSchema,
  accountId: AccountIdSchema,
  model: z.string().min(1),
  /** Effective remaining: the minimum over every source that covers the model; null if unknown. */
  remainingFraction: FractionSchema.nullable(),
  resetTime: EpochMsSchema.nullable(),
  /** Which source set the effective remaining. */
  bindingSource: QuotaSourceSchema.nullable(),
  /** A short human sentence, shown in the UI and the logs. */
  reason: z.string().min(1),
  /** True when the decision rests on old data because the latest fetch failed. */
  degraded: z.boolean(),
  freshness: FreshnessSchema,
  /** Set when a cooldown forces the decision to exhausted. */
  cooldownUntil: EpochMsSchema.nullable(),
});
export type Decision = z.infer<typeof DecisionSchema>;

export const CooldownKindSchema = z.enum([
  'quota-exhausted',
  'rate-limited',
  'capacity',
  'transient',
  'auth',
  'manual',
]);
export type CooldownKind = z.infer<typeof CooldownKindSchema>;

export const CooldownSchema = z.object({
  accountId: AccountIdSchema,
  /** The model it applies to; null for the whole account. */
  model: z.string().min(1).nullable(),
  until: EpochMsSchema,
  kind: CooldownKindSchema,
  reason: z.string().min(1),
  setAt: EpochMsSchema,
});
export type Cooldown = z.infer<typeof CooldownSchema>;

/** Decision thresholds as fractions: below `warn` is low, below `floor` is exhausted. */
export const ThresholdsSchema = z
  .object({
    warn: FractionSchema,
    floor: FractionSchema,
  })
  .refine((t) => t.floor < t.warn, {
    message: 'the floor threshold must be lower than the warn threshold (e.g. warn 10%, floor 5%)',
  });
export type Thresholds = z.infer<typeof ThresholdsSchema>;

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({ warn: 0.1, floor: 0.05 });

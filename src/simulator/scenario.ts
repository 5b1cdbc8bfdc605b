/**
 * A simulator scenario: accounts, capacities, cost model, latency, faults and a seed. Scenarios come
 * as JSON (files) or TS objects (the built-in ones); both are validated here with messages that name
 * the path and what is wrong.
 */
import { z } from 'zod';
import { DEFAULT_CATALOG } from '../core/catalog';
import { ConfigError, formatIssues } from '../core/errors';
import type { QuotaWindowKind, SimTier } from './quotaModel';

export const SIM_POOLS = [...new Set(DEFAULT_CATALOG.map((m) => m.pool))] as [string, ...string[]];
export const PoolSchema = z.enum(SIM_POOLS, { error: `pool must be one of: ${SIM_POOLS.join(', ')}` });

export const SimTierSchema = z.enum(['FREE', 'PRO', 'ULTRA'], {
  error: 'tier must be "FREE", "PRO" or "ULTRA"',
});

const Fraction = z.number().min(0, 'a fraction is 0..1').max(1, 'a fraction is 0..1');

/** Either one fraction for both windows or one per window. */
const RemainingSchema = z.union([
  Fraction,
  z.object({ '5h': Fraction.optional(), weekly: Fraction.optional() }).strict(),
]);

/** Epoch ms or an ISO 8601 date-time. */
const TimeSchema = z.union([
  z.number().int().nonnegative(),
  z.iso.datetime({
    offset: true,
    error: 'use epoch milliseconds or an ISO date-time like 2026-01-05T09:00:00Z',
  }),
]);

export const SimAccountSchema = z
  .object({
    id: z.string().min(1).max(200),
    email: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'not an email address'),
    name: z.string().min(1).optional(),
    tier: SimTierSchema,
    /** Overrides the tier id loadCodeAssist reports (e.g. "ws-ai-ultra-business-tier"). */
    tierId: z.string().min(1).optional(),
    refreshToken: z.string().min(8, 'refresh tokens are at least 8 characters'),
    /** A Cloud Code project id, or "needs-onboarding" (loadCodeAssist returns none until onboardUser). */
    project: z.string().min(1).optional(),
    /** Remaining fraction at start, per pool; missing pools are full. */
    remaining: z.partialRecord(PoolSchema, RemainingSchema).default({}),
    /** Start offset of each window's cycle, in ms (default 0: aligned to the epoch). */
    windowPhaseMs: z
      .object({
        '5h': z.number().int().nonnegative().default(0),
        weekly: z.number().int().nonnegative().default(0),
      })
      .strict()
      .default({ '5h': 0, weekly: 0 }),
    validationRequired: z.object({ url: z.url() }).strict().optional(),
    banned: z.boolean().default(false),
  })
  .strict();
export type SimAccount = z.infer<typeof SimAccountSchema>;

const WindowCapacity = z
  .object({ '5h': z.number().nonnegative(), weekly: z.number().nonnegative() })
  .strict();
const TierCapacities = z.partialRecord(PoolSchema, WindowCapacity);

export const FAULT_KINDS = [
  /** 429 ErrorInfo QUOTA_EXHAUSTED first, then RetryInfo. */
  'quota-exhausted',
  /** 429 with RetryInfo first and ErrorInfo QUOTA_EXHAUSTED at index 1 of details. */
  'quota-exhausted-info-second',
  /** 429 ErrorInfo RATE_LIMIT_EXCEEDED with a short RetryInfo. */
  'rate-limited',
  /** 429 RESOURCE_EXHAUSTED with no details at all. */
  'resource-exhausted-bare',
  /** 429 ErrorInfo MODEL_CAPACITY_EXHAUSTED (server side, seconds). */
  'model-capacity',
  /** 503 UNAVAILABLE "No capacity available for model … on the server". */
  'no-capacity',
  /** 500 INTERNAL. */
  'server-error',
  /** 401 UNAUTHENTICATED even with a valid token (as an expired one). */
  'token-expired',
  /** 403 PERMISSION_DENIED, ErrorInfo VALIDATION_REQUIRED with metadata.validation_url. */
  'validation-required',
  /** 403 PERMISSION_DENIED mentioning a Terms of Service ban. */
  'tos-ban',
  /** The request is read, then nothing is ever sent (headers never come). */
  'stall',
  /** The connection is destroyed after the first chunk of the answer. */
  'connection-reset',
  /** 200 with a body (or one SSE event) that is not valid JSON. */
  'malformed-json',
  /** fetchAvailableModels and retrieveUserQuotaSummary answer 503 while generation works. */
  'quota-api-outage',
  /** fetchAvailableModels reports 100% for every model while the summary stays right. */
  'models-stuck-full',
  /** fetchAvailableModels answers 403 when the body names a project, 200 without one. */
  'models-project-forbidden',
  /** fetchAvailableModels gives exhausted models remainingFraction 0 and resetTime 1970-01-01T00:00:00Z. */
  'models-epoch-reset',
  /** 429 ErrorInfo INSUFFICIENT_G1_CREDITS_BALANCE (paid credits spent). */
  'insufficient-credits',
] as const;
export const FaultKindSchema = z.enum(FAULT_KINDS, {
  error: `fault kind must be one of: ${FAULT_KINDS.join(', ')}`,
});
export type FaultKind = z.infer<typeof FaultKindSchema>;

export const FaultSpecSchema = z
  .object({
    kind: FaultKindSchema,
    /** Probability per matching request (0..1); default 1. Drawn from the scenario's seeded PRNG. */
    rate: Fraction.optional(),
    /** Fire on the next matching request only, then disappear. */
    once: z.boolean().optional(),
    /** Fire on the next N matching requests, then disappear. */
    count: z.number().int().positive().optional(),
    /** Only for this account (id or email). */
    account: z.string().min(1).optional(),
    /** Only for this model. */
    model: z.string().min(1).optional(),
    /** Active only from / until these simulated times. */
    from: TimeSchema.optional(),
    until: TimeSchema.optional(),
    /** Delay to advertise (rate-limited, model-capacity), in ms. */
    retryDelayMs: z.number().nonnegative().optional(),
    /** Adds a `Retry-After: <seconds>` header to the fault's error answer. */
    retryAfterSec: z.number().int().nonnegative().optional(),
  })
  .strict();
export type FaultSpec = z.infer<typeof FaultSpecSchema>;

export const ScenarioSchema = z
  .object({
    name: z.string().min(1).default('custom'),
    description: z.string().optional(),
    seed: z.number().int().default(1),
    /** Start of simulated time for a time-scaled clock (default: now). */
    startTime: TimeSchema.optional(),
    oauth: z
      .object({
        clientId: z.string().min(1).default('sim-client-id'),
        clientSecret: z.string().min(1).default('sim-client-secret'),
        accessTokenLifetimeSec: z.number().int().positive().default(3600),
      })
      .strict()
      .default({
        clientId: 'sim-client-id',
        clientSecret: 'sim-client-secret',
        accessTokenLifetimeSec: 3600,
      }),
    accounts: z.array(SimAccountSchema).min(1, 'a scenario needs at least one account'),
    /** Capacity per tier, pool and window in cost units; missing entries take the defaults. */
    capacities: z.partialRecord(SimTierSchema, TierCapacities).default({}),
    cost: z
      .discriminatedUnion('unit', [
        z.object({ unit: z.literal('requests'), perRequest: z.number().positive().default(1) }).strict(),
        z.object({ unit: z.literal('tokens'), perToken: z.number().positive().default(1) }).strict(),
      ])
      .default({ unit: 'requests', perRequest: 1 }),
    latency: z
      .object({
        /** Before the status line and headers. */
        firstByteMs: z.number().nonnegative().default(0),
        /** Between two SSE events. */
        chunkGapMs: z.number().nonnegative().default(0),
        /** Text chunks per streamed answer. */
        chunks: z.number().int().min(1).max(200).default(3),
      })
      .strict()
      .default({ firstByteMs: 0, chunkGapMs: 0, chunks: 3 }),
    onboarding: z
      .object({ pollsUntilDone: z.number().int().min(0).max(50).default(2) })
      .strict()
      .default({ pollsUntilDone: 2 }),
    faults: z.array(FaultSpecSchema).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = {
      id: new Map<string, number>(),
      email: new Map<string, number>(),
      refreshToken: new Map<string, number>(),
    };
    s.accounts.forEach((a, i) => {
      for (const field of ['id', 'email', 'refreshToken'] as const) {
        const value = field === 'email' ? a.email.toLowerCase() : a[field];
        const first = seen[field].get(value);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['accounts', i, field],
            message: `duplicate ${field}: account ${first} already uses it; each account needs its own`,
          });
        } else seen[field].set(value, i);
      }
    });
  });
export type Scenario = z.infer<typeof ScenarioSchema>;
export type SimTierName = z.infer<typeof SimTierSchema>;
/** What authors write: defaults may be left out. */
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** Default capacities in requests per window; token-costed scenarios multiply them by 10 000. */
export const DEFAULT_CAPACITIES: Readonly<Record<SimTier, Record<string, Record<QuotaWindowKind, number>>>> =
  {
    FREE: {
      claude: { '5h': 20, weekly: 100 },
      'gpt-oss': { '5h': 20, weekly: 100 },
      'gemini-pro': { '5h': 20, weekly: 100 },
      'gemini-flash': { '5h': 100, weekly: 500 },
      'gemini-image': { '5h': 10, weekly: 50 },
    },
    PRO: {
      claude: { '5h': 100, weekly: 500 },
      'gpt-oss': { '5h': 100, weekly: 500 },
      'gemini-pro': { '5h': 100, weekly: 500 },
      'gemini-flash': { '5h': 500, weekly: 2500 },
      'gemini-image': { '5h': 50, weekly: 250 },
    },
    ULTRA: {
      claude: { '5h': 400, weekly: 2000 },
      'gpt-oss': { '5h': 400, weekly: 2000 },
      'gemini-pro': { '5h': 400, weekly: 2000 },
      'gemini-flash': { '5h': 2000, weekly: 10000 },
      'gemini-image': { '5h': 200, weekly: 1000 },
    },
  };

/** Validates a scenario; throws ConfigError naming each bad path and what to fix. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      `${source} is not a valid simulator scenario: ${formatIssues(result.error.issues)}`,
    );
  }
  return result.data;
}

/** Capacities with defaults filled in (scaled for token costs). */
export function effectiveCapacities(
  s: Scenario,
): Record<SimTier, Record<string, Record<QuotaWindowKind, number>>> {
  const scale = s.cost.unit === 'tokens' ? 10_000 : 1;
  const out = {} as Record<SimTier, Record<string, Record<QuotaWindowKind, number>>>;
  for (const tier of ['FREE', 'PRO', 'ULTRA'] as const) {
    out[tier] = {};
    for (const pool of SIM_POOLS) {
      const given = s.capacities[tier]?.[pool];
      const def = DEFAULT_CAPACITIES[tier][pool] ?? { '5h': 0, weekly: 0 };
      out[tier][pool] = given ?? { '5h': def['5h'] * scale, weekly: def.weekly * scale };
    }
  }
  return out;
}

export function toEpochMs(t: number | string): number {
  return typeof t === 'number' ? t : Date.parse(t);
}

/** The account's Cloud Code project, null while it still needs onboarding. */
export function initialProject(a: SimAccount): string | null {
  if (a.project === 'needs-onboarding') return null;
  return a.project ?? `sim-project-${a.id.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}`;
}

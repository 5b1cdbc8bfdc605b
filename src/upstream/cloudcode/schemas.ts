/**
 * zod schemas of everything Cloud Code and Google OAuth answer. Google publishes no specification
 * and changes these often, so every object is loose (unknown fields pass through), almost every field
 * is optional (a missing field means "unknown", never "full"), and a shape we cannot use becomes a
 * `ProviderError` of kind 'invalid-response' naming the field path.
 */
import { z } from 'zod';
import { formatIssues } from '../../core/errors';
import { ProviderError } from '../../core/provider';
import { GeminiResponseSchema, type GeminiResponse } from '../gemini/schema';

/** protobuf JSON writes int64 as strings: accept `200000` and `"200000"`. */
const Int = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);

const Fraction = z.number().min(0).max(1);

// ---------------------------------------------------------------------------------------------
// Google errors

export const GoogleErrorDetailSchema = z.looseObject({
  '@type': z.string().optional(),
  reason: z.string().optional(),
  domain: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** RetryInfo: a protobuf duration string (`"539420.18s"`) or `{seconds, nanos}`. */
  retryDelay: z
    .union([
      z.string(),
      z.looseObject({ seconds: z.union([z.string(), z.number()]).optional(), nanos: z.number().optional() }),
    ])
    .optional(),
});
export type GoogleErrorDetail = z.infer<typeof GoogleErrorDetailSchema>;

export const GoogleErrorBodySchema = z.looseObject({
  error: z.looseObject({
    code: z.number().int().optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    /** Entries are checked one by one: an entry of an unknown shape must not hide the others. */
    details: z.array(z.unknown()).optional(),
  }),
});
export type GoogleErrorBody = z.infer<typeof GoogleErrorBodySchema>;

// ---------------------------------------------------------------------------------------------
// loadCodeAssist / onboardUser

export const ProjectRefSchema = z.union([
  z.string(),
  z.looseObject({ id: z.string().optional(), name: z.string().optional() }),
]);
export type ProjectRef = z.infer<typeof ProjectRefSchema>;

export const TierInfoSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  isDefault: z.boolean().optional(),
});
export type TierInfo = z.infer<typeof TierInfoSchema>;

export const IneligibleTierSchema = z.looseObject({
  reasonCode: z.string().optional(),
  reasonMessage: z.string().optional(),
  tierId: z.string().optional(),
  tierName: z.string().optional(),
  validationUrl: z.string().optional(),
});
export type IneligibleTier = z.infer<typeof IneligibleTierSchema>;

export const LoadCodeAssistResponseSchema = z.looseObject({
  cloudaicompanionProject: ProjectRefSchema.nullish(),
  currentTier: TierInfoSchema.nullish(),
  paidTier: TierInfoSchema.nullish(),
  allowedTiers: z.array(TierInfoSchema).nullish(),
  ineligibleTiers: z.array(IneligibleTierSchema).nullish(),
});
export type LoadCodeAssistResponse = z.infer<typeof LoadCodeAssistResponseSchema>;

export const OnboardOperationSchema = z.looseObject({
  name: z.string().optional(),
  done: z.boolean().optional(),
  response: z.looseObject({ cloudaicompanionProject: ProjectRefSchema.nullish() }).nullish(),
  error: z.looseObject({ code: z.number().optional(), message: z.string().optional() }).nullish(),
});
export type OnboardOperation = z.infer<typeof OnboardOperationSchema>;

// ---------------------------------------------------------------------------------------------
// fetchAvailableModels / retrieveUserQuotaSummary

export const QuotaInfoSchema = z.looseObject({
  remainingFraction: Fraction.optional(),
  resetTime: z.string().optional(),
});

export const AvailableModelSchema = z.looseObject({
  displayName: z.string().optional(),
  modelProvider: z.string().optional(),
  quotaInfo: QuotaInfoSchema.nullish(),
  maxTokens: Int.optional(),
  maxOutputTokens: Int.optional(),
  supportsThinking: z.boolean().optional(),
  recommended: z.boolean().optional(),
});
export type AvailableModel = z.infer<typeof AvailableModelSchema>;

export const FetchAvailableModelsResponseSchema = z.looseObject({
  models: z.record(z.string(), AvailableModelSchema).nullish(),
  deprecatedModelIds: z.record(z.string(), z.looseObject({ newModelId: z.string().min(1) })).nullish(),
});
export type FetchAvailableModelsResponse = z.infer<typeof FetchAvailableModelsResponseSchema>;

export const QuotaSummaryBucketSchema = z.looseObject({
  bucketId: z.string().optional(),
  window: z.string().optional(),
  remainingFraction: Fraction.optional(),
  resetTime: z.string().optional(),
});

export const QuotaSummaryGroupSchema = z.looseObject({
  displayName: z.string().optional(),
  description: z.string().optional(),
  buckets: z.array(QuotaSummaryBucketSchema).nullish(),
});

export const QuotaSummaryResponseSchema = z.looseObject({
  groups: z.array(QuotaSummaryGroupSchema).nullish(),
});
export type QuotaSummaryResponse = z.infer<typeof QuotaSummaryResponseSchema>;

// ---------------------------------------------------------------------------------------------
// generateContent / streamGenerateContent / countTokens

/**
 * The Gemini response inside the Cloud Code envelope, as the project's Gemini wire schema defines it
 * (so the proxy's translators take it as is). A candidate `content` without `parts` (seen on final
 * stream chunks) is read as an empty part list rather than rejected.
 */
export const GenerateContentResponseSchema = z.preprocess(fillMissingParts, GeminiResponseSchema);
export type GenerateContentResponse = GeminiResponse;

function fillMissingParts(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const candidates = (value as { candidates?: unknown }).candidates;
  if (!Array.isArray(candidates)) return value;
  let changed = false;
  const fixed = candidates.map((c: unknown) => {
    const content = (c as { content?: unknown } | null)?.content;
    if (typeof content === 'object' && content !== null && !('parts' in content)) {
      changed = true;
      return { ...(c as object), content: { ...content, parts: [] } };
    }
    return c;
  });
  return changed ? { ...value, candidates: fixed } : value;
}

/** Every non-streaming body and every SSE `data:` line: `{response, traceId}`. */
export const GenerateContentEnvelopeSchema = z.looseObject({
  response: GenerateContentResponseSchema,
  traceId: z.string().optional(),
});
export type GenerateContentEnvelope = z.infer<typeof GenerateContentEnvelopeSchema>;

export const CountTokensResponseSchema = z.looseObject({ totalTokens: Int });
export type CountTokensResponse = z.infer<typeof CountTokensResponseSchema>;

// ---------------------------------------------------------------------------------------------
// OAuth

export const OAuthTokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: Int,
  token_type: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  id_token: z.string().optional(),
});
export type OAuthTokenResponse = z.infer<typeof OAuthTokenResponseSchema>;

export const OAuthErrorResponseSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
});
export type OAuthErrorResponse = z.infer<typeof OAuthErrorResponseSchema>;

export const UserinfoResponseSchema = z.looseObject({
  email: z.string().min(3),
  id: z.string().optional(),
  name: z.string().optional(),
  picture: z.string().optional(),
  verified_email: z.boolean().optional(),
});
export type UserinfoResponse = z.infer<typeof UserinfoResponseSchema>;

// ---------------------------------------------------------------------------------------------

/**
 * Validates `data` against `schema`; on failure throws a ProviderError of kind 'invalid-response'
 * whose message names what was called and every failing field path. Values are never echoed, so
 * the message is safe to log even when the body held a token.
 */
export function parseUpstream<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = formatIssues(result.error.issues.slice(0, 5));
  return throwInvalid(what, issues);
}

function throwInvalid(what: string, issues: string): never {
  throw new ProviderError(
    'invalid-response',
    `${what} answered with an unexpected shape (${issues}). The upstream API may have changed; update Quota Pilot or report this message.`,
  );
}

/** Parses JSON text, turning a syntax error into an 'invalid-response' ProviderError. */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return throwInvalid(what, `(root): not JSON (${text.length} bytes)`);
  }
}

/** The project id of `"p"` or `{id: "p"}`; undefined when absent or empty. */
export function projectIdOf(ref: ProjectRef | null | undefined): string | undefined {
  if (ref == null) return undefined;
  const id = typeof ref === 'string' ? ref : ref.id;
  return id && id.length > 0 ? id : undefined;
}

/**
 * Gemini wire types (generateContent, streamGenerateContent, countTokens, models list) as zod schemas
 * with their inferred types. These are the bodies inside the Cloud Code envelope (`request` /
 * `response`) and the bodies of Google's public Gemini API.
 *
 * Every object is loose: unknown fields are tolerated and passed through untouched, because Google
 * adds fields often and a proxy must not drop what it does not understand.
 */
import { z } from 'zod';

/** JSON-schema subset Gemini accepts in function declarations; kept loose (validated upstream). */
export const GeminiJsonSchemaSchema = z.record(z.string(), z.unknown());
export type GeminiJsonSchema = z.infer<typeof GeminiJsonSchemaSchema>;

export const GeminiFunctionCallSchema = z.looseObject({
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()).optional(),
  id: z.string().optional(),
});
export type GeminiFunctionCall = z.infer<typeof GeminiFunctionCallSchema>;

export const GeminiFunctionResponseSchema = z.looseObject({
  name: z.string().min(1),
  response: z.record(z.string(), z.unknown()),
  id: z.string().optional(),
});
export type GeminiFunctionResponse = z.infer<typeof GeminiFunctionResponseSchema>;

export const GeminiInlineDataSchema = z.looseObject({
  mimeType: z.string().min(1),
  /** Base64 bytes. */
  data: z.string(),
});
export type GeminiInlineData = z.infer<typeof GeminiInlineDataSchema>;

/**
 * One part. Gemini parts are a union by which field is present (text, functionCall, …); we keep one
 * object with optional fields so that unknown part kinds (fileData, executableCode, …) pass through.
 */
export const GeminiPartSchema = z.looseObject({
  text: z.string().optional(),
  /** True when `text` is reasoning ("thought summary"), not answer. */
  thought: z.boolean().optional(),
  /** Opaque signature that must be sent back with the part it came with on the next turn. */
  thoughtSignature: z.string().optional(),
  functionCall: GeminiFunctionCallSchema.optional(),
  functionResponse: GeminiFunctionResponseSchema.optional(),
  inlineData: GeminiInlineDataSchema.optional(),
  /** A file the upstream reads by URI (Anthropic image / PDF URL sources). */
  fileData: z.looseObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) }).optional(),
});
export type GeminiPart = z.infer<typeof GeminiPartSchema>;

export const GeminiRoleSchema = z.enum(['user', 'model']);
export type GeminiRole = z.infer<typeof GeminiRoleSchema>;

export const GeminiContentSchema = z.looseObject({
  /** Absent on systemInstruction; `user` or `model` in contents. */
  role: z.string().optional(),
  parts: z.array(GeminiPartSchema),
});
export type GeminiContent = z.infer<typeof GeminiContentSchema>;

export const GeminiFunctionDeclarationSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** OpenAPI-style schema subset (Gemini rejects some JSON-schema keywords). */
  parameters: GeminiJsonSchemaSchema.optional(),
  /** Full JSON schema, accepted by newer Gemini versions instead of `parameters`. */
  parametersJsonSchema: z.unknown().optional(),
});
export type GeminiFunctionDeclaration = z.infer<typeof GeminiFunctionDeclarationSchema>;

export const GeminiToolSchema = z.looseObject({
  functionDeclarations: z.array(GeminiFunctionDeclarationSchema).optional(),
});
export type GeminiTool = z.infer<typeof GeminiToolSchema>;

export const GeminiFunctionCallingModeSchema = z.enum([
  'AUTO',
  'ANY',
  'NONE',
  'VALIDATED',
  'MODE_UNSPECIFIED',
]);
export type GeminiFunctionCallingMode = z.infer<typeof GeminiFunctionCallingModeSchema>;

export const GeminiToolConfigSchema = z.looseObject({
  functionCallingConfig: z
    .looseObject({
      mode: GeminiFunctionCallingModeSchema.optional(),
      allowedFunctionNames: z.array(z.string()).optional(),
    })
    .optional(),
});
export type GeminiToolConfig = z.infer<typeof GeminiToolConfigSchema>;

export const GeminiThinkingConfigSchema = z.looseObject({
  includeThoughts: z.boolean().optional(),
  /** Tokens; -1 means dynamic, 0 disables thinking where the model allows it. */
  thinkingBudget: z.number().int().optional(),
  /** Gemini 3 style: "low" / "medium" / "high" (case-insensitive upstream). */
  thinkingLevel: z.string().optional(),
});
export type GeminiThinkingConfig = z.infer<typeof GeminiThinkingConfigSchema>;

export const GeminiGenerationConfigSchema = z.looseObject({
  temperature: z.number().optional(),
  topP: z.number().optional(),
  topK: z.number().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  stopSequences: z.array(z.string()).optional(),
  candidateCount: z.number().int().positive().optional(),
  responseMimeType: z.string().optional(),
  responseSchema: z.unknown().optional(),
  responseJsonSchema: z.unknown().optional(),
  thinkingConfig: GeminiThinkingConfigSchema.optional(),
});
export type GeminiGenerationConfig = z.infer<typeof GeminiGenerationConfigSchema>;

export const GeminiSafetySettingSchema = z.looseObject({
  category: z.string(),
  threshold: z.string(),
});
export type GeminiSafetySetting = z.infer<typeof GeminiSafetySettingSchema>;

/** The generateContent / streamGenerateContent request body. */
export const GeminiRequestSchema = z.looseObject({
  contents: z.array(GeminiContentSchema),
  systemInstruction: GeminiContentSchema.optional(),
  tools: z.array(GeminiToolSchema).optional(),
  toolConfig: GeminiToolConfigSchema.optional(),
  generationConfig: GeminiGenerationConfigSchema.optional(),
  safetySettings: z.array(GeminiSafetySettingSchema).optional(),
  /** Cloud Code: stable per conversation (keeps prompt caches on one backend). */
  sessionId: z.string().optional(),
  cachedContent: z.string().optional(),
});
export type GeminiRequest = z.infer<typeof GeminiRequestSchema>;

/** Finish reasons Gemini documents; others are tolerated as plain strings. */
export const GEMINI_FINISH_REASONS = [
  'FINISH_REASON_UNSPECIFIED',
  'STOP',
  'MAX_TOKENS',
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'OTHER',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'MALFORMED_FUNCTION_CALL',
  'IMAGE_SAFETY',
  'UNEXPECTED_TOOL_CALL',
] as const;
export type GeminiFinishReason = (typeof GEMINI_FINISH_REASONS)[number];

export const GeminiCandidateSchema = z.looseObject({
  /** Absent when the candidate was blocked before producing anything. */
  content: GeminiContentSchema.optional(),
  finishReason: z.string().optional(),
  index: z.number().int().nonnegative().optional(),
});
export type GeminiCandidate = z.infer<typeof GeminiCandidateSchema>;

export const GeminiUsageMetadataSchema = z.looseObject({
  promptTokenCount: z.number().int().nonnegative().optional(),
  candidatesTokenCount: z.number().int().nonnegative().optional(),
  thoughtsTokenCount: z.number().int().nonnegative().optional(),
  totalTokenCount: z.number().int().nonnegative().optional(),
  cachedContentTokenCount: z.number().int().nonnegative().optional(),
});
export type GeminiUsageMetadata = z.infer<typeof GeminiUsageMetadataSchema>;

export const GeminiPromptFeedbackSchema = z.looseObject({
  blockReason: z.string().optional(),
});

/** A generateContent response, and equally one streamGenerateContent SSE chunk. */
export const GeminiResponseSchema = z.looseObject({
  candidates: z.array(GeminiCandidateSchema).optional(),
  usageMetadata: GeminiUsageMetadataSchema.optional(),
  promptFeedback: GeminiPromptFeedbackSchema.optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});
export type GeminiResponse = z.infer<typeof GeminiResponseSchema>;
/** Stream chunks have the same shape as a whole response. */
export const GeminiStreamChunkSchema = GeminiResponseSchema;
export type GeminiStreamChunk = GeminiResponse;

/** countTokens request: the public API takes `contents` or a whole `generateContentRequest`. */
export const GeminiCountTokensRequestSchema = z.looseObject({
  contents: z.array(GeminiContentSchema).optional(),
  generateContentRequest: GeminiRequestSchema.optional(),
});
export type GeminiCountTokensRequest = z.infer<typeof GeminiCountTokensRequestSchema>;

export const GeminiCountTokensResponseSchema = z.looseObject({
  totalTokens: z.number().int().nonnegative(),
  cachedContentTokenCount: z.number().int().nonnegative().optional(),
});
export type GeminiCountTokensResponse = z.infer<typeof GeminiCountTokensResponseSchema>;

/** One entry of the public API's `GET /v1beta/models`. */
export const GeminiModelInfoSchema = z.looseObject({
  /** "models/<id>". */
  name: z.string().min(1),
  baseModelId: z.string().optional(),
  version: z.string().optional(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  inputTokenLimit: z.number().int().nonnegative().optional(),
  outputTokenLimit: z.number().int().nonnegative().optional(),
  supportedGenerationMethods: z.array(z.string()).optional(),
  thinking: z.boolean().optional(),
});
export type GeminiModelInfo = z.infer<typeof GeminiModelInfoSchema>;

export const GeminiModelsListSchema = z.looseObject({
  models: z.array(GeminiModelInfoSchema),
  nextPageToken: z.string().optional(),
});
export type GeminiModelsList = z.infer<typeof GeminiModelsListSchema>;

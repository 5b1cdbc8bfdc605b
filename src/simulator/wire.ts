/**
 * Request bodies the simulator accepts, validated with zod. Unknown fields are tolerated (as Google
 * does for most of them); wrong types and missing required fields are 400 INVALID_ARGUMENT.
 */
import { z } from 'zod';

export const PartSchema = z
  .object({
    text: z.string().optional(),
    thought: z.boolean().optional(),
    thoughtSignature: z.string().optional(),
    functionCall: z
      .object({ name: z.string().min(1), args: z.record(z.string(), z.unknown()).optional() })
      .loose()
      .optional(),
    functionResponse: z
      .object({ name: z.string().min(1), response: z.unknown().optional() })
      .loose()
      .optional(),
    inlineData: z.object({ mimeType: z.string(), data: z.string() }).loose().optional(),
  })
  .loose();
export type Part = z.infer<typeof PartSchema>;

export const ContentSchema = z.object({ role: z.string().optional(), parts: z.array(PartSchema) }).loose();
export type Content = z.infer<typeof ContentSchema>;

export const FunctionDeclarationSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.unknown().optional(),
    parametersJsonSchema: z.unknown().optional(),
  })
  .loose();
export type FunctionDeclaration = z.infer<typeof FunctionDeclarationSchema>;

export const GenerateRequestSchema = z
  .object({
    contents: z.array(ContentSchema).min(1, 'contents must hold at least one message'),
    systemInstruction: ContentSchema.optional(),
    tools: z
      .array(z.object({ functionDeclarations: z.array(FunctionDeclarationSchema).optional() }).loose())
      .optional(),
    toolConfig: z
      .object({
        functionCallingConfig: z
          .object({ mode: z.string().optional(), allowedFunctionNames: z.array(z.string()).optional() })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    generationConfig: z
      .object({
        maxOutputTokens: z.number().int().positive().optional(),
        thinkingConfig: z
          .object({
            includeThoughts: z.boolean().optional(),
            thinkingBudget: z.number().int().optional(),
            thinkingLevel: z.string().optional(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    sessionId: z.string().optional(),
  })
  .loose();
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

export const GenerateEnvelopeSchema = z
  .object({
    project: z.string().min(1, 'project is required'),
    model: z.string().min(1, 'model is required'),
    userAgent: z.string().optional(),
    requestType: z.string().optional(),
    requestId: z.string().optional(),
    request: GenerateRequestSchema,
  })
  .loose();
export type GenerateEnvelope = z.infer<typeof GenerateEnvelopeSchema>;

export const CountTokensBodySchema = z
  .object({
    request: z
      .object({
        model: z.string().optional(),
        contents: z.array(ContentSchema).min(1, 'contents must hold at least one message'),
      })
      .loose(),
  })
  .strict();

const MetadataSchema = z.record(z.string(), z.unknown()).optional();

export const LoadCodeAssistBodySchema = z
  .object({ cloudaicompanionProject: z.string().optional(), metadata: MetadataSchema })
  .loose();

export const OnboardUserBodySchema = z
  .object({
    tierId: z.string().min(1, 'tierId is required'),
    cloudaicompanionProject: z.string().optional(),
    metadata: MetadataSchema,
  })
  .loose();

export const ProjectBodySchema = z.object({ project: z.string().min(1).optional() }).loose();

export const GetOperationBodySchema = z.object({ name: z.string().min(1, 'name is required') }).loose();

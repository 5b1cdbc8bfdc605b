/**
 * The Cloud Code model catalog as the engine knows it before any fetch: model ids, the quota pool
 * each draws from (models in one pool share one remaining fraction), and the summary group whose
 * 5-hour / weekly buckets cover it. Fetched catalogs extend this; unknown models are their own pool.
 */
export type SummaryGroup = 'gemini' | 'third-party';

export interface CatalogModel {
  id: string;
  displayName: string;
  /** Models in one pool share one quota. */
  pool: string;
  summaryGroup: SummaryGroup;
  provider: 'google' | 'anthropic' | 'openai';
  supportsThinking: boolean;
  maxTokens: number;
  maxOutputTokens: number;
}

export const DEFAULT_CATALOG: readonly CatalogModel[] = Object.freeze([
  {
    id: 'claude-sonnet-4-6',
    displayName: 'Claude Sonnet 4.6',
    pool: 'claude',
    summaryGroup: 'third-party',
    provider: 'anthropic',
    supportsThinking: true,
    maxTokens: 200_000,
    maxOutputTokens: 64_000,
  },
  {
    id: 'claude-sonnet-4-6-thinking',
    displayName: 'Claude Sonnet 4.6 (Thinking)',
    pool: 'claude',
    summaryGroup: 'third-party',
    provider: 'anthropic',
    supportsThinking: true,
    maxTokens: 200_000,
    maxOutputTokens: 64_000,
  },
  {
    id: 'claude-opus-4-6-thinking',
    displayName: 'Claude Opus 4.6 (Thinking)',
    pool: 'claude',
    summaryGroup: 'third-party',
    provider: 'anthropic',
    supportsThinking: true,
    maxTokens: 200_000,
    maxOutputTokens: 64_000,
  },
  {
    id: 'gpt-oss-120b-medium',
    displayName: 'GPT-OSS 120B (Medium)',
    pool: 'gpt-oss',
    summaryGroup: 'third-party',
    provider: 'openai',
    supportsThinking: true,
    maxTokens: 131_072,
    maxOutputTokens: 32_768,
  },
  {
    id: 'gemini-3-pro-high',
    displayName: 'Gemini 3 Pro (High)',
    pool: 'gemini-pro',
    summaryGroup: 'gemini',
    provider: 'google',
    supportsThinking: true,
    maxTokens: 1_048_576,
    maxOutputTokens: 65_536,
  },
  {
    id: 'gemini-3-pro-low',
    displayName: 'Gemini 3 Pro (Low)',
    pool: 'gemini-pro',
    summaryGroup: 'gemini',
    provider: 'google',
    supportsThinking: true,
    maxTokens: 1_048_576,
    maxOutputTokens: 65_536,
  },
  {
    id: 'gemini-pro-agent',
    displayName: 'Gemini 3.1 Pro (Agent)',
    pool: 'gemini-pro',
    summaryGroup: 'gemini',
    provider: 'google',
    supportsThinking: true,
    maxTokens: 1_048_576,
    maxOutputTokens: 65_536,
  },
  {
    id: 'gemini-3-flash',
    displayName: 'Gemini 3 Flash',
    pool: 'gemini-flash',
    summaryGroup: 'gemini',
    provider: 'google',
    supportsThinking: true,
    maxTokens: 1_048_576,
    maxOutputTokens: 65_536,
  },
  {
    id: 'gemini-3.1-flash-image',
    displayName: 'Gemini 3.1 Flash Image',
    pool: 'gemini-image',
    summaryGroup: 'gemini',
    provider: 'google',
    supportsThinking: false,
    maxTokens: 65_536,
    maxOutputTokens: 32_768,
  },
] satisfies CatalogModel[]);

/** Deprecated ids the real catalog forwards to new ones. */
export const DEFAULT_DEPRECATED_MODEL_IDS: Readonly<Record<string, string>> = Object.freeze({
  'gemini-3.1-pro-high': 'gemini-pro-agent',
});

const byId = new Map(DEFAULT_CATALOG.map((m) => [m.id, m]));

export function catalogModel(id: string): CatalogModel | undefined {
  return byId.get(id);
}

/** The quota pool of a model: known pools from the catalog, else the model id itself. */
export function poolOf(model: string): string {
  return byId.get(model)?.pool ?? model;
}

export const SUMMARY_GROUP_NAMES: Readonly<Record<SummaryGroup, string>> = Object.freeze({
  gemini: 'Gemini Models',
  'third-party': 'Claude and GPT models',
});

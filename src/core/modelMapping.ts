/**
 * Client model names → upstream model ids. Coding tools ask for the names they know ("claude-sonnet-4-5",
 * "gpt-4o", "gemini-2.5-pro"); the upstream serves its own catalog. Resolution order:
 *   1. the user's table (exact name, then `*` patterns in the order written),
 *   2. the built-in defaults (same order),
 *   3. the catalog's deprecated-id forwarding (applied to the result of 1–2 as well),
 *   4. anything else passes through unchanged.
 */
import { z } from 'zod';
import { DEFAULT_DEPRECATED_MODEL_IDS } from './catalog';
import { ConfigError } from './errors';

export const ModelMappingSchema = z.record(
  z
    .string()
    .min(1, 'a client model name (or a pattern with *) must not be empty')
    .max(200)
    .regex(/^[\w.:*/@-]+$/, 'client model names may contain letters, digits and . : * / @ - _ only'),
  z
    .string()
    .min(1, 'the upstream model id must not be empty')
    .max(200)
    .regex(/^[\w.:/@-]+$/, 'upstream model ids may contain letters, digits and . : / @ - _ only (no *)'),
);
export type ModelMappingTable = z.infer<typeof ModelMappingSchema>;

/** Sensible defaults for the names that popular clients send. */
export const DEFAULT_MODEL_MAPPING: Readonly<ModelMappingTable> = Object.freeze({
  'claude-opus-*': 'claude-opus-4-6-thinking',
  'claude-*-opus-*': 'claude-opus-4-6-thinking',
  'claude-sonnet-*': 'claude-sonnet-4-6',
  'claude-*-sonnet-*': 'claude-sonnet-4-6',
  'claude-haiku-*': 'gemini-3-flash',
  'claude-*-haiku-*': 'gemini-3-flash',
  'gpt-*-mini*': 'gemini-3-flash',
  'gpt-*-nano*': 'gemini-3-flash',
  'gpt-4*': 'gemini-3-pro-high',
  'gpt-5*': 'gemini-3-pro-high',
  'o3*': 'gemini-3-pro-high',
  'o4-mini*': 'gemini-3-flash',
  'gemini-2.5-pro*': 'gemini-3-pro-high',
  'gemini-2.5-flash-image*': 'gemini-3.1-flash-image',
  'gemini-2.5-flash*': 'gemini-3-flash',
  'gemini-3-pro': 'gemini-3-pro-high',
  'gemini-3-pro-preview': 'gemini-3-pro-high',
  'gemini-3-flash-preview': 'gemini-3-flash',
});

interface CompiledRule {
  pattern: string;
  target: string;
  re: RegExp | undefined;
}

export interface MappedModel {
  /** The id sent upstream. */
  model: string;
  /** How it was found, for logs and the UI. */
  via: 'user' | 'default' | 'deprecated' | 'passthrough';
}

function compile(table: Readonly<ModelMappingTable>): CompiledRule[] {
  return Object.entries(table).map(([pattern, target]) => ({
    pattern,
    target,
    re: pattern.includes('*')
      ? new RegExp(`^${pattern.split('*').map(escapeRe).join('.*')}$`, 'i')
      : undefined,
  }));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lookup(rules: readonly CompiledRule[], name: string): string | undefined {
  const lower = name.toLowerCase();
  const exact = rules.find((r) => r.re === undefined && r.pattern.toLowerCase() === lower);
  if (exact) return exact.target;
  return rules.find((r) => r.re?.test(name))?.target;
}

export class ModelMapper {
  private readonly user: CompiledRule[];
  private readonly defaults: CompiledRule[];
  private deprecated: Readonly<Record<string, string>>;
  private readonly memo = new Map<string, MappedModel>();

  /** Throws ConfigError naming the bad entry when the user's table is invalid. */
  constructor(
    userTable: unknown = {},
    deprecated: Readonly<Record<string, string>> = DEFAULT_DEPRECATED_MODEL_IDS,
  ) {
    const parsed = ModelMappingSchema.safeParse(userTable ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as
        { path: PropertyKey[]; message: string; issues?: Array<{ message: string }> } | undefined;
      // A bad key is reported by zod as "Invalid key in record" with the real reason nested.
      const detail = issue?.issues?.[0]?.message ?? issue?.message;
      const where = issue && issue.path.length > 0 ? ` (entry "${issue.path.map(String).join('.')}")` : '';
      throw new ConfigError(
        `The model mapping is invalid${where}: ${detail ?? 'expected an object of "client name": "upstream id"'}. ` +
          'Fix quotaPilot.modelMapping, e.g. { "gpt-4o": "gemini-3-pro-high" }.',
        'quotaPilot.modelMapping',
      );
    }
    this.user = compile(parsed.data);
    this.defaults = compile(DEFAULT_MODEL_MAPPING);
    this.deprecated = deprecated;
  }

  /** Replaces the deprecated-id forwarding map with the one a fetched catalog reported. */
  setDeprecated(map: Readonly<Record<string, string>>): void {
    this.deprecated = { ...DEFAULT_DEPRECATED_MODEL_IDS, ...map };
    this.memo.clear();
  }

  map(clientModel: string): MappedModel {
    const cached = this.memo.get(clientModel);
    if (cached) return cached;
    let result: MappedModel;
    const fromUser = lookup(this.user, clientModel);
    const fromDefault = fromUser === undefined ? lookup(this.defaults, clientModel) : undefined;
    const mapped = fromUser ?? fromDefault;
    if (mapped !== undefined) {
      result = { model: this.forward(mapped), via: fromUser !== undefined ? 'user' : 'default' };
    } else if (this.deprecated[clientModel] !== undefined) {
      result = { model: this.forward(clientModel), via: 'deprecated' };
    } else {
      result = { model: clientModel, via: 'passthrough' };
    }
    if (this.memo.size > 1_000) this.memo.clear();
    this.memo.set(clientModel, result);
    return result;
  }

  private forward(model: string): string {
    // Follow forwarding chains, guarding against cycles.
    let current = model;
    for (let i = 0; i < 8; i++) {
      const next = this.deprecated[current];
      if (next === undefined || next === current) return current;
      current = next;
    }
    return current;
  }
}

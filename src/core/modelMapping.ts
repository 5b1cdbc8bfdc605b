/**
 * Client model names → upstream model ids, resolved against the catalog the upstream actually offers
 * (its `fetchAvailableModels` list; the built-in catalog until the first fetch). Resolution order:
 *   1. the user's table (exact name, then `*` patterns in the order written); its target is itself
 *      resolved by 2–4 when it names a family or a deprecated id, else sent as written,
 *   2. an id the catalog offers (case-insensitive),
 *   3. the catalog's deprecated-id forwarding,
 *   4. the family the name belongs to (see modelNames.ts): the same version when offered, else the
 *      best offered model of the family, else of its fallback families,
 *   5. anything else is refused: the proxy answers 404 naming what is available.
 * Each name's choice is logged once (again when a new catalog changes it), with the reason.
 */
import { z } from 'zod';
import { DEFAULT_CATALOG, DEFAULT_DEPRECATED_MODEL_IDS } from './catalog';
import { ConfigError } from './errors';
import {
  compareVersions,
  FAMILY_FALLBACKS,
  FAMILY_LABELS,
  formatVersion,
  normalizeModelName,
  parseModelName,
  type ModelFamily,
  type ParsedModelName,
} from './modelNames';

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

/** One model the upstream offers, as far as resolution needs it. */
export interface CatalogEntry {
  id: string;
  displayName?: string;
  recommended?: boolean;
}

export type ResolvedVia = 'user' | 'catalog' | 'deprecated' | 'family';

export type ModelResolution =
  | {
      ok: true;
      /** The id sent upstream. */
      model: string;
      via: ResolvedVia;
      /** Why this model, in words (for the log). */
      reason: string;
    }
  | {
      ok: false;
      /** For the client: names the model (shortened, never a secret) and lists what is available. */
      message: string;
    };

/**
 * Names that popular clients send on their defaults (listed by `GET /v1/models` next to the real
 * ids, so that clients which check the list find them). Resolution does not depend on this list.
 */
export const CLIENT_MODEL_NAMES: readonly string[] = Object.freeze([
  // Claude Code 2.1 (main model, small fast model), opencode's Anthropic default.
  'claude-opus-5-5',
  'claude-haiku-4-5-20251001',
  'claude-sonnet-4-6',
  // Gemini CLI 0.61 (main model, router), and the name it rewrites `-m gemini-3-flash` to.
  'gemini-3.1-pro-preview',
  'gemini-3.5-flash-lite',
  'gemini-3.8-flash',
  // Codex CLI 0.171.
  'gpt-6.2-sol',
]);

interface CompiledRule {
  pattern: string;
  target: string;
  re: RegExp | undefined;
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

/** At most this many characters of a refused name are shown back. */
const SHOWN_NAME_MAX = 40;

/**
 * A client's model name as it may be echoed in an error or a log: printable characters only,
 * shortened, and withheld entirely when it looks like a credential (a long unbroken run of letters
 * and digits, as API keys and tokens have; model names are short dash-separated words).
 */
export function displayModelName(name: string): string {
  const clean = name.replace(/[^\w.:/@[\] -]/g, '?');
  if (/[A-Za-z0-9_]{24,}/.test(clean) || /^(?:sk-|qp-|ya29\.|AIza|1\/\/)/i.test(clean)) {
    return '(a name that looks like a key, not shown)';
  }
  return clean.length > SHOWN_NAME_MAX ? `${clean.slice(0, SHOWN_NAME_MAX)}…` : clean;
}

interface Offered extends CatalogEntry {
  parsed: ParsedModelName | undefined;
}

const TIER_RANK: Readonly<Record<string, number>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, number>, {
    xhigh: 5,
    max: 5,
    high: 4,
    medium: 2,
    agent: 1,
    low: 0,
    minimal: 0,
  }),
);

function tierRank(tier: string | undefined): number {
  return tier === undefined ? 3 : (TIER_RANK[tier] ?? 2);
}

/** Orders offered models of one family, best first, for a request that says `want`. */
function better(want: ParsedModelName | undefined, a: Offered, b: Offered): number {
  const pa = a.parsed as ParsedModelName;
  const pb = b.parsed as ParsedModelName;
  return (
    compareVersions(pb.version, pa.version) ||
    Number(pb.thinking === (want?.thinking ?? false)) - Number(pa.thinking === (want?.thinking ?? false)) ||
    Number(want?.tier !== undefined && pb.tier === want.tier) -
      Number(want?.tier !== undefined && pa.tier === want.tier) ||
    tierRank(pb.tier) - tierRank(pa.tier) ||
    (pb.size ?? 0) - (pa.size ?? 0) ||
    Number(b.recommended ?? false) - Number(a.recommended ?? false) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export interface ModelMapperOptions {
  /** The upstream's deprecated-id forwarding (old id → new id). */
  deprecated?: Readonly<Record<string, string>>;
  /** What the upstream offers; the built-in catalog until a fetched one is set. */
  catalog?: readonly CatalogEntry[];
  /** Told once per client name what it resolves to and why (again when the choice changes). */
  log?: (line: string) => void;
}

const MEMO_MAX = 1_000;
const SEEN_MAX = 24;

export class ModelMapper {
  private user: CompiledRule[];
  private deprecated = new Map<string, string>();
  private offered: Offered[] = [];
  private byId = new Map<string, Offered>();
  private readonly memo = new Map<string, ModelResolution>();
  /** Last target logged per name, so each choice is logged once. */
  private readonly logged = new Map<string, string>();
  /** Client names recently resolved (not catalog ids), for the model lists. */
  private readonly seen = new Map<string, true>();
  private readonly log: ((line: string) => void) | undefined;

  /** Throws ConfigError naming the bad entry when the user's table is invalid. */
  constructor(userTable: unknown = {}, options: ModelMapperOptions = {}) {
    this.user = compile(parseTable(userTable));
    this.log = options.log;
    this.setDeprecated(options.deprecated ?? {});
    this.setCatalog(options.catalog ?? DEFAULT_CATALOG);
  }

  /** Replaces the user's table (settings changed). Throws ConfigError when it is invalid. */
  setUserTable(table: unknown): void {
    this.user = compile(parseTable(table));
    this.memo.clear();
  }

  /** Replaces the deprecated-id forwarding map with the one a fetched catalog reported. */
  setDeprecated(map: Readonly<Record<string, string>>): void {
    this.deprecated = new Map([
      ...Object.entries(DEFAULT_DEPRECATED_MODEL_IDS),
      ...Object.entries(map).filter(([, to]) => typeof to === 'string'),
    ]);
    this.memo.clear();
  }

  /** Replaces what the upstream offers (an empty list keeps the built-in catalog). */
  setCatalog(models: readonly CatalogEntry[]): void {
    const list = models.length > 0 ? models : DEFAULT_CATALOG;
    this.offered = list.map((m) => ({ ...m, parsed: parseModelName(m.id, m.displayName) }));
    this.byId = new Map(this.offered.map((m) => [m.id.toLowerCase(), m]));
    this.memo.clear();
  }

  /** The ids resolution currently chooses from. */
  catalogIds(): string[] {
    return this.offered.map((m) => m.id);
  }

  /** Resolves a client's model name (see the file comment for the order). */
  resolve(clientModel: string): ModelResolution {
    const cached = this.memo.get(clientModel);
    if (cached) return cached;
    const result = this.compute(clientModel);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(clientModel, result);
    if (result.ok) {
      const isId = this.byId.has(clientModel.toLowerCase());
      if (!isId && /^[\w.:@-]{1,64}$/.test(clientModel)) {
        this.seen.delete(clientModel);
        this.seen.set(clientModel, true);
        if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.keys().next().value as string);
      }
      if (result.model !== clientModel && this.logged.get(clientModel) !== result.model) {
        if (this.logged.size >= MEMO_MAX) this.logged.clear();
        this.logged.set(clientModel, result.model);
        this.log?.(`model "${displayModelName(clientModel)}" → ${result.model} (${result.reason})`);
      }
    }
    return result;
  }

  /**
   * Names clients send that resolve, with their targets: the user's exact entries, the names popular
   * clients send on their defaults, and names recently resolved. Catalog ids are not repeated.
   */
  aliases(): Array<{ alias: string; model: string }> {
    const names = new Set<string>([
      ...this.user.filter((r) => r.re === undefined).map((r) => r.pattern),
      ...CLIENT_MODEL_NAMES,
      ...this.seen.keys(),
    ]);
    const out: Array<{ alias: string; model: string }> = [];
    for (const alias of names) {
      if (this.byId.has(alias.toLowerCase())) continue;
      const r = this.compute(alias);
      if (r.ok) out.push({ alias, model: r.model });
    }
    return out;
  }

  private compute(clientModel: string): ModelResolution {
    const fromUser = lookup(this.user, clientModel);
    if (fromUser !== undefined) {
      const target = this.resolveUpstream(fromUser);
      return target
        ? {
            ...target,
            via: 'user',
            reason: `quotaPilot.modelMapping maps it to ${fromUser}; ${target.reason}`,
          }
        : {
            ok: true,
            model: fromUser,
            via: 'user',
            reason: 'quotaPilot.modelMapping (the catalog does not offer it; sent as written)',
          };
    }
    return this.resolveUpstream(clientModel) ?? { ok: false, message: this.refusal(clientModel) };
  }

  private resolveUpstream(name: string): (ModelResolution & { ok: true }) | undefined {
    const exact = this.byId.get(name.toLowerCase());
    if (exact) return { ok: true, model: exact.id, via: 'catalog', reason: 'offered by the upstream' };
    const forwarded = this.forward(name);
    if (forwarded !== undefined) {
      const target = this.byId.get(forwarded.toLowerCase());
      return {
        ok: true,
        model: target?.id ?? forwarded,
        via: 'deprecated',
        reason: `the upstream forwards this deprecated id to ${forwarded}`,
      };
    }
    const norm = normalizeModelName(name);
    const normalized = this.byId.get(norm);
    if (normalized)
      return { ok: true, model: normalized.id, via: 'catalog', reason: 'offered by the upstream' };
    const want = parseModelName(name);
    if (!want) return undefined;
    return this.byFamily(want);
  }

  private byFamily(want: ParsedModelName): (ModelResolution & { ok: true }) | undefined {
    const label = FAMILY_LABELS[want.family];
    for (const family of FAMILY_FALLBACKS[want.family]) {
      const members = this.offered.filter((m) => m.parsed?.family === family);
      if (members.length === 0) continue;
      const sameFamily = family === want.family;
      const sameVersion =
        sameFamily && want.version.length > 0
          ? members.filter((m) => compareVersions(m.parsed?.version ?? [], want.version) === 0)
          : [];
      const pool = sameVersion.length > 0 ? sameVersion : members;
      const best = [...pool].sort((a, b) => better(sameFamily ? want : undefined, a, b))[0] as Offered;
      const got = formatVersion(best.parsed?.version ?? []);
      let reason: string;
      if (!sameFamily) {
        reason =
          want.family === 'openai-large' || want.family === 'openai-small'
            ? `${label} are served by the best ${FAMILY_LABELS[family]} offered (${got})`
            : `no ${label} model is offered; the best ${FAMILY_LABELS[family]} offered (${got}) stands in`;
      } else if (want.version.length === 0) {
        reason = `the best ${label} offered (${got})`;
      } else if (sameVersion.length > 0) {
        reason = `${label} ${got} is offered`;
      } else {
        const asked = formatVersion(want.version);
        reason =
          compareVersions(want.version, best.parsed?.version ?? []) > 0
            ? `${label} ${asked} is newer than any offered; the best offered is ${got}`
            : `${label} ${asked} is not offered; the best offered is ${got}`;
      }
      return { ok: true, model: best.id, via: 'family', reason };
    }
    return undefined;
  }

  /** Follows the deprecated-id chain from `name`; undefined when `name` is not deprecated. */
  private forward(name: string): string | undefined {
    let current = this.deprecated.get(name) ?? this.deprecated.get(name.toLowerCase());
    if (current === undefined) return undefined;
    for (let i = 0; i < 8; i++) {
      const next = this.deprecated.get(current);
      if (next === undefined || next === current) break;
      current = next;
    }
    return current;
  }

  private refusal(clientModel: string): string {
    const parsed = parseModelName(clientModel);
    const ids = this.offered.map((m) => m.id);
    const head = parsed
      ? `The model "${displayModelName(clientModel)}" is a ${FAMILY_LABELS[parsed.family]} model, and your accounts offer none that can serve it.`
      : `The model "${displayModelName(clientModel)}" is not offered by your accounts, and Quota Pilot cannot tell which model it stands for.`;
    return (
      `${head} Available: ${ids.join(', ')}; names of the Claude (opus, sonnet, haiku), Gemini (pro, flash, ` +
      'flash-lite, image) and OpenAI (gpt-*, o*, *-codex) families resolve to the best of these. ' +
      'Use one of them, or map the name in quotaPilot.modelMapping.'
    );
  }
}

function parseTable(userTable: unknown): ModelMappingTable {
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
  return parsed.data;
}

export type { ModelFamily };

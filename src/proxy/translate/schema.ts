/**
 * Client JSON schemas (tool parameters and structured-output schemas of every client format) → the
 * OpenAPI-style `Schema` subset the upstream takes in `functionDeclarations[].parameters` and
 * `generationConfig.responseSchema`.
 *
 * - Local `$ref`s (`#`, `#/$defs/…`, `#/definitions/…`, any JSON pointer into the schema) are
 *   inlined; a reference met again inside its own expansion is unrolled at most twice, then ends in
 *   a plain node of the target's type.
 * - `allOf` is merged; `oneOf` becomes `anyOf`; `null` branches and `type: [T, "null"]` become
 *   `nullable`; several types become an `anyOf` with each type's keywords in its branch; keywords of
 *   the parent of a union move into the branches (the upstream refuses `items` or `properties` beside
 *   `anyOf`).
 * - `const` becomes a one-value `enum`; enums of numbers or booleans (the upstream takes string enums
 *   only) move into the description, so that the value keeps its type.
 * - Keywords outside the subset (`$schema`, `additionalProperties`, `pattern`, `default`, …), and
 *   keywords that do not apply to the node's type, are dropped; `required` keeps only declared
 *   properties; an array without `items` gets string items; a node with no type at all becomes a
 *   string (the upstream needs a type on every node that is not a union).
 *
 * What cannot be converted — a schema that is not an object, an unknown type, a reference that does
 * not resolve, a union with no branch, `allOf` branches that contradict each other, nesting deeper
 * than 32 levels, more than 5,000 nodes once references are inlined, a tool schema whose root is not
 * an object — throws a RequestValidationError naming the path, so the client gets a 400 rather than
 * an upstream refusal.
 */
import type { GeminiRequest } from '../../upstream/gemini/schema';
import { RequestValidationError } from './common';

/** A schema in the upstream's subset. */
export type UpstreamSchema = Record<string, unknown>;

/** Nesting levels of the converted schema (references that recurse are cut before this). */
export const MAX_SCHEMA_DEPTH = 32;
/** Schema nodes once every reference is inlined. */
export const MAX_SCHEMA_NODES = 5000;
/** How many times one reference may be expanded inside its own expansion. */
const MAX_REF_REPEAT = 2;

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['int32', 'int64', 'float', 'double']);
const OBJECT_KEYS = ['properties', 'required', 'minProperties', 'maxProperties', 'additionalProperties'];
const ARRAY_KEYS = ['items', 'prefixItems', 'minItems', 'maxItems'];
const STRING_KEYS = ['minLength', 'maxLength', 'pattern'];
const NUMBER_KEYS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function nonNegInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The node accepts any value: no type and no union. */
function isAny(n: UpstreamSchema): boolean {
  return n.type === undefined && n.anyOf === undefined;
}

/** The type a schema without `type` implies by its keywords. */
function inferType(src: Record<string, unknown>): JsonType | undefined {
  if (OBJECT_KEYS.some((k) => k in src)) return 'object';
  if (ARRAY_KEYS.some((k) => k in src)) return 'array';
  const values = Array.isArray(src.enum) ? src.enum : 'const' in src ? [src.const] : undefined;
  if (values) {
    const kinds = new Set(values.filter((v) => v !== null).map((v) => typeof v));
    if (kinds.size === 1 && kinds.has('number')) {
      return values.every((v) => v === null || Number.isInteger(v)) ? 'integer' : 'number';
    }
    if (kinds.size === 1 && kinds.has('boolean')) return 'boolean';
    return 'string';
  }
  if (STRING_KEYS.some((k) => k in src)) return 'string';
  if (NUMBER_KEYS.some((k) => k in src)) return 'number';
  return undefined;
}

function decodePointer(segment: string): string {
  let s = segment;
  try {
    s = decodeURIComponent(s);
  } catch {
    // keep it as written
  }
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

class Converter {
  private nodes = 0;

  constructor(
    private readonly root: unknown,
    private readonly base: string,
  ) {}

  fail(path: string, message: string): never {
    throw new RequestValidationError(`${path}: ${message}`, path);
  }

  private resolve(ref: string, path: string): unknown {
    if (ref === '#') return this.root;
    if (!ref.startsWith('#/')) {
      this.fail(
        `${path}.$ref`,
        `"${ref}" is not a reference inside this schema; only local references (#/$defs/…) can be inlined. Inline the referenced schema.`,
      );
    }
    let at: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const seg = decodePointer(raw);
      if (Array.isArray(at) && /^\d+$/.test(seg)) at = at[Number(seg)];
      else if (isRecord(at) && Object.hasOwn(at, seg)) at = at[seg];
      else at = undefined;
      if (at === undefined) {
        this.fail(
          `${path}.$ref`,
          `"${ref}" does not resolve inside this schema; add the definition or inline it.`,
        );
      }
    }
    return at;
  }

  /** Converts one node; `refs` are the references being expanded around it. */
  node(src: unknown, path: string, depth: number, refs: readonly string[]): UpstreamSchema {
    if (depth > MAX_SCHEMA_DEPTH) {
      this.fail(
        path,
        `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels, which the upstream cannot take; flatten it.`,
      );
    }
    if (++this.nodes > MAX_SCHEMA_NODES) {
      this.fail(
        this.base,
        `the schema has more than ${MAX_SCHEMA_NODES} nodes once its $refs are inlined, which the upstream cannot take; simplify it.`,
      );
    }
    if (src === true) return {};
    if (src === false) this.fail(path, 'the schema `false` accepts no value; remove it or give it a schema.');
    if (!isRecord(src)) this.fail(path, `a JSON schema must be an object, not ${describe(src)}.`);

    let s: Record<string, unknown> = src;
    if ('$ref' in s) {
      const ref = s.$ref;
      if (typeof ref !== 'string') this.fail(`${path}.$ref`, `must be a string, not ${describe(ref)}.`);
      const { $ref: _drop, ...siblings } = s;
      const target = this.resolve(ref, path);
      const seen = refs.filter((r) => r === ref).length;
      if (seen >= MAX_REF_REPEAT || depth >= MAX_SCHEMA_DEPTH - 2) {
        // A recursive reference: end the unrolling with a plain node of the target's type.
        const t = isRecord(target)
          ? typeof target.type === 'string'
            ? target.type
            : inferType(target)
          : undefined;
        const end: UpstreamSchema = {
          type: t !== undefined && JSON_TYPES.has(t) && t !== 'null' ? t : 'object',
        };
        const d = siblings.description ?? (isRecord(target) ? target.description : undefined);
        if (typeof d === 'string') end.description = d;
        return end.type === 'array' ? { ...end, items: { type: 'string' } } : end;
      }
      const expanded = this.node(target, path, depth, [...refs, ref]);
      if (Object.keys(siblings).length === 0) return expanded;
      const rest = this.node(siblings, path, depth, refs);
      return this.merge(expanded, rest, path);
    }

    if ('allOf' in s) {
      const all = s.allOf;
      if (!Array.isArray(all) || all.length === 0)
        this.fail(`${path}.allOf`, 'must be a non-empty array of schemas.');
      const { allOf: _drop, ...siblings } = s;
      let merged = this.node(siblings, path, depth, refs);
      all.forEach((b, i) => {
        merged = this.merge(
          merged,
          this.node(b, `${path}.allOf.${i}`, depth + 1, refs),
          `${path}.allOf.${i}`,
        );
      });
      return merged;
    }

    const unionKey = 'anyOf' in s ? 'anyOf' : 'oneOf' in s ? 'oneOf' : undefined;
    if (unionKey !== undefined) {
      const branches = s[unionKey];
      if (!Array.isArray(branches) || branches.length === 0) {
        this.fail(`${path}.${unionKey}`, 'must be a non-empty array of schemas.');
      }
      const { anyOf: _a, oneOf: _o, ...siblings } = s;
      s = siblings;
      return this.union(branches, `${path}.${unionKey}`, siblings, path, depth, refs);
    }

    // type: a name, or a list of names.
    let nullable = s.nullable === true;
    let type: JsonType | undefined;
    if ('type' in s) {
      const t = s.type;
      const names = Array.isArray(t) ? t : [t];
      if (names.length === 0) this.fail(`${path}.type`, 'must name at least one type.');
      const valid: JsonType[] = [];
      names.forEach((n) => {
        const lower = typeof n === 'string' ? n.toLowerCase() : undefined;
        if (lower === undefined || !JSON_TYPES.has(lower)) {
          this.fail(
            `${path}.type`,
            `must be one of "string", "number", "integer", "boolean", "object", "array", "null" (or a list of them), not ${describe(n)}.`,
          );
        }
        if (!valid.includes(lower as JsonType)) valid.push(lower as JsonType);
      });
      if (valid.includes('null')) nullable = true;
      const nonNull = valid.filter((v) => v !== 'null');
      if (nonNull.length > 1) {
        // One branch per type, each with the keywords that apply to it.
        const { type: _t, title, description, nullable: _n, ...rest } = s;
        const out: UpstreamSchema = {
          anyOf: nonNull.map((v) => finalize(this.node({ ...rest, type: v }, path, depth + 1, refs))),
        };
        if (typeof title === 'string') out.title = title;
        if (typeof description === 'string') out.description = description;
        if (nullable) out.nullable = true;
        return out;
      }
      type = nonNull[0] ?? (valid.length > 0 ? 'null' : undefined);
    }
    type ??= inferType(s);
    if (type === 'null') {
      type = 'string';
      nullable = true;
    }

    const out: UpstreamSchema = {};
    if (type !== undefined) out.type = type;
    if (typeof s.title === 'string') out.title = s.title;
    let description = typeof s.description === 'string' ? s.description : undefined;
    if (nullable) out.nullable = true;

    // enum / const
    const values = Array.isArray(s.enum) ? s.enum : 'const' in s ? [s.const] : undefined;
    if ('enum' in s && !Array.isArray(s.enum))
      this.fail(`${path}.enum`, `must be an array, not ${describe(s.enum)}.`);
    if (values) {
      if (values.length === 0)
        this.fail(`${path}.enum`, 'lists no value, so no value can match; list at least one.');
      if (values.includes(null)) out.nullable = true;
      const present = values.filter((v) => v !== null);
      if (type === undefined || type === 'string') {
        out.type = 'string';
        const strings = [...new Set(present.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))))];
        if (strings.length > 0) out.enum = strings;
      } else if (present.length > 0) {
        const allowed = `Allowed values: ${present.map((v) => JSON.stringify(v)).join(', ')}.`;
        description = description === undefined ? allowed : `${description} ${allowed}`;
      }
    }
    if (description !== undefined) out.description = description;

    switch (out.type) {
      case 'object':
        this.objectKeywords(s, out, path, depth, refs);
        break;
      case 'array':
        this.arrayKeywords(s, out, path, depth, refs);
        break;
      case 'string': {
        const minLength = nonNegInt(s.minLength);
        const maxLength = nonNegInt(s.maxLength);
        if (minLength !== undefined) out.minLength = minLength;
        if (maxLength !== undefined) out.maxLength = maxLength;
        if (typeof s.format === 'string' && STRING_FORMATS.has(s.format)) out.format = s.format;
        break;
      }
      case 'number':
      case 'integer': {
        const minimum = finite(s.minimum) ?? finite(s.exclusiveMinimum);
        const maximum = finite(s.maximum) ?? finite(s.exclusiveMaximum);
        if (minimum !== undefined) out.minimum = minimum;
        if (maximum !== undefined) out.maximum = maximum;
        if (typeof s.format === 'string' && NUMBER_FORMATS.has(s.format)) out.format = s.format;
        break;
      }
      default:
        break;
    }
    return out;
  }

  private objectKeywords(
    s: Record<string, unknown>,
    out: UpstreamSchema,
    path: string,
    depth: number,
    refs: readonly string[],
  ): void {
    const props: Record<string, UpstreamSchema> = {};
    if ('properties' in s) {
      const p = s.properties;
      if (!isRecord(p))
        this.fail(`${path}.properties`, `must map property names to schemas, not ${describe(p)}.`);
      for (const [name, sub] of Object.entries(p)) {
        if (sub === false) continue; // a property that may not appear: leave it out
        setOwn(props, name, finalize(this.node(sub, `${path}.properties.${name}`, depth + 1, refs)));
      }
    }
    out.properties = props;
    if (Array.isArray(s.required)) {
      const req = [
        ...new Set(s.required.filter((r): r is string => typeof r === 'string' && Object.hasOwn(props, r))),
      ];
      if (req.length > 0) out.required = req;
    }
    const minP = nonNegInt(s.minProperties);
    const maxP = nonNegInt(s.maxProperties);
    if (minP !== undefined) out.minProperties = minP;
    if (maxP !== undefined) out.maxProperties = maxP;
    if (Array.isArray(s.propertyOrdering)) {
      const order = s.propertyOrdering.filter(
        (k): k is string => typeof k === 'string' && Object.hasOwn(props, k),
      );
      if (order.length === Object.keys(props).length && order.length > 0) out.propertyOrdering = order;
    }
  }

  private arrayKeywords(
    s: Record<string, unknown>,
    out: UpstreamSchema,
    path: string,
    depth: number,
    refs: readonly string[],
  ): void {
    const items = s.items;
    const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(items) ? items : undefined;
    if (tuple && tuple.length > 0) {
      out.items = finalize(
        this.union(
          tuple,
          `${path}.${Array.isArray(s.prefixItems) ? 'prefixItems' : 'items'}`,
          {},
          path,
          depth + 1,
          refs,
        ),
      );
    } else if (items === false) {
      out.items = { type: 'string' };
      out.maxItems = 0;
    } else if (items !== undefined && !Array.isArray(items)) {
      if (items !== true && !isRecord(items))
        this.fail(`${path}.items`, `must be a schema, not ${describe(items)}.`);
      out.items = finalize(this.node(items, `${path}.items`, depth + 1, refs));
    }
    const minItems = nonNegInt(s.minItems);
    const maxItems = nonNegInt(s.maxItems);
    if (minItems !== undefined) out.minItems = minItems;
    if (maxItems !== undefined && out.maxItems === undefined) out.maxItems = maxItems;
  }

  /**
   * `anyOf` of `branches`; the keywords beside the union (`siblings`) apply to every branch. `null`
   * branches make the result nullable; a union with one branch left is that branch.
   */
  private union(
    branches: readonly unknown[],
    unionPath: string,
    siblings: Record<string, unknown>,
    path: string,
    depth: number,
    refs: readonly string[],
  ): UpstreamSchema {
    const { title, description, nullable, ...constraints } = siblings;
    const shared =
      Object.keys(constraints).length > 0 ? this.node(constraints, path, depth, refs) : undefined;
    let isNullable = nullable === true;
    const out: UpstreamSchema[] = [];
    let any = false;
    branches.forEach((b, i) => {
      if (b === false) return;
      if (
        isRecord(b) &&
        (b.type === 'null' || (Array.isArray(b.type) && b.type.length === 1 && b.type[0] === 'null'))
      ) {
        isNullable = true;
        return;
      }
      let c = this.node(b, `${unionPath}.${i}`, depth + 1, refs);
      if (shared && !isAny(shared)) {
        try {
          c = this.merge(shared, c, `${unionPath}.${i}`);
        } catch (err) {
          if (err instanceof RequestValidationError) return; // this branch contradicts its parent: no value can take it
          throw err;
        }
      }
      if (c.nullable === true) {
        isNullable = true;
        delete c.nullable;
      }
      if (isAny(c)) any = true;
      out.push(c);
    });
    let result: UpstreamSchema;
    if (any) result = shared && !isAny(shared) ? { ...shared } : {};
    else if (out.length === 0) {
      if (!isNullable)
        this.fail(unionPath, 'no branch of this union can hold a value; give it at least one schema.');
      result = { type: 'string' };
    } else if (out.length === 1) result = out[0] as UpstreamSchema;
    else result = { anyOf: out.map(finalize) };
    if (typeof title === 'string') result.title = title;
    if (typeof description === 'string') result.description = description;
    if (isNullable) result.nullable = true;
    return result;
  }

  /** Both constraints at once (allOf, a $ref with siblings, a union's parent and a branch). */
  merge(a: UpstreamSchema, b: UpstreamSchema, path: string): UpstreamSchema {
    if (isAny(a)) return { ...b, ...pick(a, ['title', 'description']) };
    if (isAny(b)) return { ...a, ...pick(b, ['title', 'description']) };
    if (a.anyOf !== undefined || b.anyOf !== undefined) {
      const [u, other] = a.anyOf !== undefined ? [a, b] : [b, a];
      const kept: UpstreamSchema[] = [];
      for (const br of u.anyOf as UpstreamSchema[]) {
        try {
          kept.push(this.merge(br, other, path));
        } catch (err) {
          if (!(err instanceof RequestValidationError)) throw err;
        }
      }
      if (kept.length === 0)
        this.fail(path, 'these schemas contradict each other, so no value can satisfy them all.');
      const out: UpstreamSchema = kept.length === 1 ? (kept[0] as UpstreamSchema) : { anyOf: kept };
      const d = a.description ?? b.description;
      if (d !== undefined) out.description = d;
      return out;
    }
    let type = a.type;
    if (a.type !== b.type) {
      const pair = new Set([a.type, b.type]);
      if (pair.has('integer') && pair.has('number')) type = 'integer';
      else {
        this.fail(
          path,
          `these schemas require different types (${JSON.stringify(a.type)} and ${JSON.stringify(b.type)}), so no value can satisfy both.`,
        );
      }
    }
    const out: UpstreamSchema = { ...b, ...a, type };
    if (a.nullable !== true || b.nullable !== true) delete out.nullable;
    if (type === 'object') {
      const pa = (a.properties ?? {}) as Record<string, UpstreamSchema>;
      const pb = (b.properties ?? {}) as Record<string, UpstreamSchema>;
      const props: Record<string, UpstreamSchema> = { ...pb };
      for (const [k, v] of Object.entries(pa)) {
        setOwn(
          props,
          k,
          Object.hasOwn(pb, k) ? this.merge(v, pb[k] as UpstreamSchema, `${path}.properties.${k}`) : v,
        );
      }
      out.properties = props;
      const req = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
      if (req.length > 0) out.required = req;
      delete out.propertyOrdering;
    }
    if (type === 'array' && a.items !== undefined && b.items !== undefined) {
      out.items = finalize(this.merge(a.items as UpstreamSchema, b.items as UpstreamSchema, `${path}.items`));
    }
    if (Array.isArray(a.enum) && Array.isArray(b.enum)) {
      const both = (a.enum as string[]).filter((v) => (b.enum as string[]).includes(v));
      if (both.length === 0) this.fail(path, 'these schemas allow no common value.');
      out.enum = both;
    }
    for (const [k, pickFn] of [
      ['minimum', Math.max],
      ['minLength', Math.max],
      ['minItems', Math.max],
      ['minProperties', Math.max],
      ['maximum', Math.min],
      ['maxLength', Math.min],
      ['maxItems', Math.min],
      ['maxProperties', Math.min],
    ] as const) {
      if (typeof a[k] === 'number' && typeof b[k] === 'number') out[k] = pickFn(a[k], b[k]);
    }
    return out;
  }
}

/** Sets an own property even for names like `__proto__` (property names come from clients). */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function pick(o: UpstreamSchema, keys: readonly string[]): UpstreamSchema {
  const out: UpstreamSchema = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** A node as it is stored: a node without a type or union becomes a string (the upstream needs one). */
function finalize(n: UpstreamSchema): UpstreamSchema {
  if (isAny(n)) return { type: 'string', ...n };
  if (n.type === 'array' && n.items === undefined) return { ...n, items: { type: 'string' } };
  return n;
}

/** Objects of every branch of a root union → one object whose properties are all optional but the shared required ones. */
function mergeObjectBranches(branches: readonly UpstreamSchema[]): UpstreamSchema | undefined {
  if (!branches.every((b) => b.type === 'object')) return undefined;
  const props: Record<string, UpstreamSchema> = {};
  for (const b of branches) {
    for (const [k, v] of Object.entries(b.properties as Record<string, UpstreamSchema>)) setOwn(props, k, v);
  }
  const required = branches
    .map((b) => (b.required as string[] | undefined) ?? [])
    .reduce((acc, r) => acc.filter((k) => r.includes(k)));
  return { type: 'object', properties: props, ...(required.length > 0 ? { required } : {}) };
}

/**
 * A tool's parameter schema → the upstream's subset. `path` names the schema in the client's request
 * (e.g. `tools.0.input_schema`); errors name paths below it. The root must describe an object.
 */
export function toUpstreamParameters(schema: unknown, path: string): UpstreamSchema {
  const c = new Converter(schema, path);
  let out = c.node(schema ?? {}, path, 0, []);
  if (isAny(out)) out = { ...out, type: 'object', properties: {} };
  if (out.anyOf !== undefined) {
    const merged = mergeObjectBranches(out.anyOf as UpstreamSchema[]);
    if (!merged) {
      c.fail(
        path,
        'a tool\'s input schema must describe an object (type "object"); this one is a union of other types.',
      );
    }
    const { anyOf: _a, ...rest } = out;
    out = { ...rest, ...merged };
  }
  if (out.type !== 'object') {
    c.fail(
      `${path}.type`,
      `a tool's input schema must describe an object (type "object"), not ${JSON.stringify(out.type)}; put the value in a property of an object.`,
    );
  }
  delete out.nullable;
  return finalize(out);
}

/**
 * A structured-output schema → the upstream's subset, or undefined when it accepts any JSON value
 * (then only the JSON response type applies).
 */
export function toUpstreamResponseSchema(schema: unknown, path: string): UpstreamSchema | undefined {
  const c = new Converter(schema, path);
  const out = c.node(schema, path, 0, []);
  return isAny(out) ? undefined : finalize(out);
}

/**
 * A Gemini-format request with its `parameters` and `responseSchema` brought into the upstream's
 * subset (clients of the Gemini format send JSON-Schema keywords there too). `parametersJsonSchema`
 * and `responseJsonSchema` take full JSON Schema upstream and pass unchanged.
 */
export function normalizeGeminiRequestSchemas(request: GeminiRequest): GeminiRequest {
  const tools = request.tools?.map((tool, i) =>
    tool.functionDeclarations === undefined
      ? tool
      : {
          ...tool,
          functionDeclarations: tool.functionDeclarations.map((d, j) =>
            d.parameters === undefined
              ? d
              : {
                  ...d,
                  parameters: toUpstreamParameters(
                    d.parameters,
                    `tools.${i}.functionDeclarations.${j}.parameters`,
                  ),
                },
          ),
        },
  );
  const gen = request.generationConfig;
  let generationConfig = gen;
  if (gen?.responseSchema !== undefined) {
    const { responseSchema, ...rest } = gen;
    const schema = toUpstreamResponseSchema(responseSchema, 'generationConfig.responseSchema');
    generationConfig = schema === undefined ? rest : { ...rest, responseSchema: schema };
  }
  return {
    ...request,
    ...(tools === undefined ? {} : { tools }),
    ...(generationConfig === undefined ? {} : { generationConfig }),
  };
}

/**
 * The checks Google applies to the schemas of a generate request (`functionDeclarations[].parameters`
 * and `generationConfig.responseSchema`, both the OpenAPI-style `Schema` message), with Google's own
 * wording: first the JSON → proto parse (unknown field names, a list where one value belongs, values
 * of the wrong kind), then the semantic rules (a type on every node that is not a union, `items`
 * exactly on arrays, `properties` only on objects, `enum` only on strings, an object at the root of
 * function parameters). `parametersJsonSchema` / `responseJsonSchema` take full JSON Schema and are
 * not checked here.
 */

/** Field names of the Schema message (proto JSON accepts the lowerCamel and the snake_case form). */
const SCHEMA_FIELDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);
const TYPES = new Set([
  'TYPE_UNSPECIFIED',
  'STRING',
  'NUMBER',
  'INTEGER',
  'BOOLEAN',
  'ARRAY',
  'OBJECT',
  'NULL',
]);
const INT64_FIELDS = ['maxItems', 'minItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength'];
const DOUBLE_FIELDS = ['minimum', 'maximum'];
const STRING_FIELDS = ['format', 'title', 'description', 'pattern'];
/** Protobuf's default recursion limit for parsing nested messages. */
const MAX_NESTING = 100;

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

interface Problems {
  parse: string[];
  semantic: string[];
}

function checkNode(
  node: unknown,
  path: string,
  depth: number,
  out: Problems,
  rootOfParameters: boolean,
): void {
  if (depth > MAX_NESTING) {
    out.parse.push(`Invalid JSON payload received. Message nesting too deep at '${path}'.`);
    return;
  }
  if (!isRecord(node)) {
    out.parse.push(
      `Invalid value at '${path}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema), ${show(node)}`,
    );
    return;
  }
  const f = new Map<string, unknown>();
  for (const [rawKey, value] of Object.entries(node)) {
    const key = camel(rawKey);
    if (!SCHEMA_FIELDS.has(key)) {
      out.parse.push(
        `Invalid JSON payload received. Unknown name "${rawKey}" at '${path}': Cannot find field.`,
      );
      continue;
    }
    f.set(key, value);
  }
  let type: string | undefined;
  const rawType = f.get('type');
  if (Array.isArray(rawType)) {
    out.parse.push(
      `Invalid JSON payload received. Unknown name "type" at '${path}': Proto field is not repeating, cannot start list.`,
    );
  } else if (rawType !== undefined) {
    if (typeof rawType === 'string' && TYPES.has(rawType.toUpperCase())) type = rawType.toUpperCase();
    else {
      out.parse.push(
        `Invalid value at '${path}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${show(rawType)}`,
      );
    }
  }
  for (const key of STRING_FIELDS) {
    const v = f.get(key);
    if (v !== undefined && typeof v !== 'string')
      out.parse.push(`Invalid value at '${path}.${key}' (TYPE_STRING), ${show(v)}`);
  }
  for (const key of INT64_FIELDS) {
    const v = f.get(key);
    const ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
    if (v !== undefined && !ok) out.parse.push(`Invalid value at '${path}.${key}' (TYPE_INT64), ${show(v)}`);
  }
  for (const key of DOUBLE_FIELDS) {
    const v = f.get(key);
    if (v !== undefined && typeof v !== 'number')
      out.parse.push(`Invalid value at '${path}.${key}' (TYPE_DOUBLE), ${show(v)}`);
  }
  const nullable = f.get('nullable');
  if (nullable !== undefined && typeof nullable !== 'boolean') {
    out.parse.push(`Invalid value at '${path}.nullable' (TYPE_BOOL), ${show(nullable)}`);
  }
  for (const key of ['enum', 'required', 'propertyOrdering']) {
    const v = f.get(key);
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      out.parse.push(`Invalid value at '${path}.${key}' (TYPE_STRING), ${show(v)}`);
      continue;
    }
    v.forEach((s, i) => {
      if (typeof s !== 'string')
        out.parse.push(`Invalid value at '${path}.${key}[${i}]' (TYPE_STRING), ${show(s)}`);
    });
  }
  const properties = f.get('properties');
  if (properties !== undefined) {
    if (!isRecord(properties)) {
      out.parse.push(
        `Invalid value at '${path}.properties' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema.PropertiesEntry), ${show(properties)}`,
      );
    } else {
      for (const [k, v] of Object.entries(properties))
        checkNode(v, `${path}.properties[${k}]`, depth + 1, out, false);
    }
  }
  const items = f.get('items');
  if (items !== undefined) checkNode(items, `${path}.items`, depth + 1, out, false);
  const anyOf = f.get('anyOf');
  if (anyOf !== undefined) {
    if (!Array.isArray(anyOf)) {
      out.parse.push(
        `Invalid value at '${path}.any_of' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema), ${show(anyOf)}`,
      );
    } else {
      anyOf.forEach((b, i) => checkNode(b, `${path}.any_of[${i}]`, depth + 1, out, false));
    }
  }

  // Semantic rules (reported only when the request parsed).
  const semantic = `* GenerateContentRequest.${path.replace(/^request\./, '')}`;
  if (type === undefined && anyOf === undefined && rawType === undefined) {
    out.semantic.push(`${semantic}.type: must be specified when not using one_of, any_of or all_of fields`);
  }
  if (type === 'ARRAY' && items === undefined) out.semantic.push(`${semantic}.items: missing field.`);
  if (items !== undefined && type !== 'ARRAY') {
    out.semantic.push(`${semantic}.items: field predicate failed: $type == Type.ARRAY`);
  }
  if (properties !== undefined && type !== 'OBJECT') {
    out.semantic.push(`${semantic}.properties: field predicate failed: $type == Type.OBJECT`);
  }
  if (f.get('enum') !== undefined && type !== 'STRING') {
    out.semantic.push(`${semantic}.enum: field predicate failed: $type == Type.STRING`);
  }
  if (rootOfParameters && type !== undefined && type !== 'OBJECT') {
    out.semantic.push(`${semantic}.type: must be OBJECT for function parameters`);
  }
}

/** The paths and fields of a generate request that hold a `Schema`. */
function schemasOf(
  request: Record<string, unknown>,
): Array<{ path: string; schema: unknown; parameters: boolean }> {
  const found: Array<{ path: string; schema: unknown; parameters: boolean }> = [];
  const tools = request.tools;
  if (Array.isArray(tools)) {
    tools.forEach((tool, i) => {
      if (!isRecord(tool)) return;
      const decls = tool.functionDeclarations ?? tool.function_declarations;
      if (!Array.isArray(decls)) return;
      decls.forEach((d, j) => {
        if (isRecord(d) && d.parameters !== undefined) {
          found.push({
            path: `request.tools[${i}].function_declarations[${j}].parameters`,
            schema: d.parameters,
            parameters: true,
          });
        }
      });
    });
  }
  const gen = request.generationConfig ?? request.generation_config;
  if (isRecord(gen)) {
    const rs = gen.responseSchema ?? gen.response_schema;
    if (rs !== undefined)
      found.push({ path: 'request.generation_config.response_schema', schema: rs, parameters: false });
  }
  return found;
}

/**
 * What Google would answer about the schemas of `request` (the inner generate request): the parse
 * errors, or else the semantic errors, as one message each; empty when every schema is accepted.
 */
export function schemaProblems(request: unknown): string[] {
  if (!isRecord(request)) return [];
  const out: Problems = { parse: [], semantic: [] };
  for (const { path, schema, parameters } of schemasOf(request)) checkNode(schema, path, 0, out, parameters);
  return out.parse.length > 0 ? out.parse : out.semantic;
}

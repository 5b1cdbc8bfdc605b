/**
 * Structured output, the way Gemini honours it: with `generationConfig.responseMimeType`
 * `application/json` the answer's text is a JSON document that satisfies `responseSchema`
 * (OpenAPI-style Schema) or `responseJsonSchema` (JSON Schema), or a small JSON object when neither
 * is given; with `text/x.enum` and an enum schema it is one of the enum's values, as plain text.
 * Values come from the schema-valid value generator in tools.ts: explanation fields get a short
 * sentence, an enum the value the prompt names (else the first), numbers their bounds (also bounds a
 * description states, "score from 1-100"), so the same request always gets the same document.
 */
import { answerFor, enumAnswer, type PromptFacts } from './tools';
import type { GenerateRequest } from './wire';

type Obj = Record<string, unknown>;

function isRecord(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field in camelCase or, as protobuf JSON also allows, snake_case. */
function field(obj: Obj, camel: string): unknown {
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return obj[camel] ?? obj[snake];
}

/** What the request asks the answer's text to be, or undefined for free text. */
export function structuredText(req: GenerateRequest, facts: PromptFacts, prose: string): string | undefined {
  const gen: unknown = req.generationConfig;
  if (!isRecord(gen)) return undefined;
  const mime = field(gen, 'responseMimeType');
  if (typeof mime !== 'string') return undefined;
  const schema = field(gen, 'responseJsonSchema') ?? field(gen, 'responseSchema');
  const kind = mime.trim().toLowerCase();
  if (kind === 'application/json') {
    if (!isRecord(schema)) return JSON.stringify({ response: prose });
    return JSON.stringify(answerFor(schema, facts));
  }
  if (kind === 'text/x.enum' && isRecord(schema) && Array.isArray(schema.enum) && schema.enum.length > 0)
    return String(enumAnswer(schema.enum, facts));
  return undefined;
}

/**
 * Deterministic answers: the same request gives the same text, thoughts, function call and usage, so
 * tests can assert them. The text echoes a summary of the last user message.
 */
import { createHash } from 'node:crypto';
import type { CatalogModel } from '../core/catalog';
import type { Content, FunctionDeclaration, GenerateRequest, Part } from './wire';

export interface UsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount: number;
  thoughtsTokenCount?: number;
  totalTokenCount: number;
}

export interface Answer {
  /** Parts per streamed chunk, in order. */
  chunks: Part[][];
  usage: UsageMetadata;
  /** "STOP" */
  finishReason: string;
}

/** Rough token estimate, 4 characters a token (at least 1 for any non-empty text). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

function partText(p: Part): string {
  if (p.text !== undefined) return p.text;
  if (p.functionCall) return JSON.stringify(p.functionCall);
  if (p.functionResponse) return JSON.stringify(p.functionResponse);
  if (p.inlineData) return `[${p.inlineData.mimeType}]`;
  return '';
}

export function promptTokens(contents: readonly Content[], system?: Content, tools?: unknown): number {
  let chars = 0;
  for (const c of contents) for (const p of c.parts) chars += partText(p).length;
  if (system) for (const p of system.parts) chars += partText(p).length;
  if (tools !== undefined) chars += JSON.stringify(tools).length;
  return Math.max(1, Math.ceil(chars / 4));
}

/** The last user message's text, whitespace collapsed, cut to 80 characters. */
export function summarizeLastUserMessage(contents: readonly Content[]): string {
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i] as Content;
    if (c.role !== undefined && c.role !== 'user') continue;
    const text = c.parts
      .filter((p) => typeof p.text === 'string' && p.thought !== true)
      .map((p) => p.text)
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (text.length > 0) return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  }
  return '(no text)';
}

/** Splits text into at most n pieces of similar length, on word boundaries where possible. */
export function splitText(text: string, n: number): string[] {
  const words = text.split(/(?<= )/);
  if (n <= 1 || words.length <= 1) return [text];
  const count = Math.min(n, words.length);
  const out: string[] = [];
  const per = words.length / count;
  for (let i = 0; i < count; i++)
    out.push(words.slice(Math.round(i * per), Math.round((i + 1) * per)).join(''));
  return out.filter((s) => s.length > 0);
}

function wantsThinking(model: CatalogModel, req: GenerateRequest): boolean {
  const tc = req.generationConfig?.thinkingConfig;
  if (tc?.includeThoughts === false) return false;
  if (tc?.includeThoughts === true || (tc?.thinkingBudget ?? 0) > 0) return model.supportsThinking;
  return model.id.includes('thinking');
}

/** The function to call, when tools are declared and the last turn is not already a tool result. */
function chooseFunction(req: GenerateRequest): FunctionDeclaration | undefined {
  const mode = req.toolConfig?.functionCallingConfig?.mode?.toUpperCase();
  if (mode === 'NONE') return undefined;
  const decls = (req.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  if (decls.length === 0) return undefined;
  const last = req.contents[req.contents.length - 1];
  if (last?.parts.some((p) => p.functionResponse !== undefined)) return undefined;
  const allowed = req.toolConfig?.functionCallingConfig?.allowedFunctionNames;
  return (allowed && decls.find((d) => allowed.includes(d.name))) || decls[0];
}

/** A value that roughly matches a JSON schema (OpenAPI-style upper-case types accepted). */
export function sampleFromSchema(schema: unknown, depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > 6) return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ('const' in s) return s.const;
  const anyOf = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(anyOf) && anyOf.length > 0) return sampleFromSchema(anyOf[0], depth + 1);
  let type = s.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? type[0];
  switch (typeof type === 'string' ? type.toLowerCase() : s.properties ? 'object' : '') {
    case 'string':
      return 'sample';
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return s.items === undefined ? [] : [sampleFromSchema(s.items, depth + 1)];
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? (s.required as unknown[]).map(String) : Object.keys(props);
      const out: Record<string, unknown> = {};
      for (const name of required) if (name in props) out[name] = sampleFromSchema(props[name], depth + 1);
      return out;
    }
    default:
      return null;
  }
}

function signature(seed: string): string {
  return createHash('sha256').update(seed).digest('base64');
}

export function buildAnswer(model: CatalogModel, req: GenerateRequest, chunkCount: number): Answer {
  const summary = summarizeLastUserMessage(req.contents);
  const prompt = promptTokens(req.contents, req.systemInstruction, req.tools);
  const chunks: Part[][] = [];
  let thoughtsTokens = 0;
  if (wantsThinking(model, req)) {
    const thought = `Thinking about the request: "${summary}".`;
    thoughtsTokens = estimateTokens(thought);
    chunks.push([{ text: thought, thought: true, thoughtSignature: signature(`${model.id}\n${thought}`) }]);
  }
  let candidates: number;
  const fn = chooseFunction(req);
  if (fn) {
    const args = sampleFromSchema(fn.parametersJsonSchema ?? fn.parameters ?? { type: 'object' });
    const call = { name: fn.name, args: (args ?? {}) as Record<string, unknown> };
    candidates = estimateTokens(JSON.stringify(call));
    chunks.push([{ functionCall: call }]);
  } else {
    const last = req.contents[req.contents.length - 1];
    const toolResult = last?.parts.find((p) => p.functionResponse !== undefined)?.functionResponse;
    const text = toolResult
      ? `Simulated ${model.id} answer after tool ${toolResult.name}: "${summary}"`
      : `Simulated ${model.id} reply to: "${summary}"`;
    candidates = estimateTokens(text);
    for (const piece of splitText(text, chunkCount)) chunks.push([{ text: piece }]);
  }
  const usage: UsageMetadata = {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    ...(thoughtsTokens > 0 ? { thoughtsTokenCount: thoughtsTokens } : {}),
    totalTokenCount: prompt + candidates + thoughtsTokens,
  };
  return { chunks, usage, finishReason: 'STOP' };
}

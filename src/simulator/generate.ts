/**
 * Deterministic answers: the same request gives the same text, thoughts, function call and usage, so
 * tests can assert them. The text echoes a summary of the last user message; with tools declared the
 * answer is a function call or, after a tool result, text that quotes it (rules in tools.ts); with
 * `responseMimeType` application/json the text is JSON that satisfies the response schema (structured.ts).
 */
import { createHash } from 'node:crypto';
import type { CatalogModel } from '../core/catalog';
import { structuredText } from './structured';
import { argumentsFor, chooseFunction, describeToolResults, promptFacts, userText, valueFor } from './tools';
import type { Content, GenerateRequest, Part } from './wire';

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
    const text = userText(c).replace(/\s+/g, ' ').trim();
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

/** A value that satisfies a JSON schema (OpenAPI-style upper-case types accepted); see tools.ts. */
export function sampleFromSchema(schema: unknown, prompt = ''): unknown {
  const facts = promptFacts({ contents: [{ role: 'user', parts: [{ text: prompt }] }] });
  return valueFor('', schema, { facts, intent: undefined, root: schema, tool: '', seed: prompt });
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
  const facts = promptFacts(req);
  const choice = chooseFunction(req, facts);
  if (choice) {
    const call = { name: choice.decl.name, args: argumentsFor(choice.decl, facts, choice.intent) };
    candidates = estimateTokens(JSON.stringify(call));
    chunks.push([{ functionCall: call }]);
  } else {
    const last = req.contents[req.contents.length - 1];
    const results = describeToolResults(last?.parts ?? []);
    const prose =
      results.length > 0
        ? `Simulated ${model.id} answer after ${results}. You asked: "${summary}"`
        : `Simulated ${model.id} reply to: "${summary}"`;
    // JSON mode (responseMimeType + schema) answers a document that satisfies the schema.
    const text = structuredText(req, facts, prose) ?? prose;
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

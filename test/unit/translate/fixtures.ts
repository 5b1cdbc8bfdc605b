import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GeminiResponseSchema, type GeminiResponse } from '../../../src/upstream/gemini/schema';
import type { ClientEvent } from '../../../src/proxy/translate/common';

const DIR = join(__dirname, '..', '..', 'fixtures', 'translate');

/** A fixture as parsed JSON (a fresh copy every call). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

export function geminiResponse(name: string): GeminiResponse {
  return GeminiResponseSchema.parse(fixture(name));
}

export function geminiStream(name: string): GeminiResponse[] {
  const raw = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as unknown[];
  return raw.map((c) => GeminiResponseSchema.parse(c));
}

/** JSON payloads of frames (skipping the `[DONE]` sentinel). */
export function payloads(events: readonly ClientEvent[]): Array<Record<string, unknown>> {
  return events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as Record<string, unknown>);
}

/** A fetch Response whose body is the SSE text of `events`. */
export function sseResponse(events: readonly ClientEvent[], format: (e: ClientEvent) => string): Response {
  const text = events.map(format).join('');
  return new Response(text, { headers: { 'content-type': 'text/event-stream' } });
}

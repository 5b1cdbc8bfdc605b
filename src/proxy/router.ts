/**
 * A tiny router: method + regular expression per route, named groups become params. A dozen fixed
 * routes do not justify a framework; this one also knows which error format each route speaks and
 * answers 405 with `Allow` when the path exists under another method.
 */
import type { ErrorFormat } from './clientErrors';

export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
  /** A short, bounded route name for logs and metric labels (never the raw path). */
  name: string;
}

interface Entry<H> {
  method: string;
  pattern: RegExp;
  name: string;
  handler: H;
}

export type RouteResult<H> =
  | { kind: 'match'; match: RouteMatch<H> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

export class Router<H> {
  private readonly entries: Entry<H>[] = [];

  /** `pattern` must match the whole path (anchor it); `name` is the metric label. */
  add(method: string, pattern: RegExp, name: string, handler: H): this {
    this.entries.push({ method: method.toUpperCase(), pattern, name, handler });
    return this;
  }

  find(method: string, path: string): RouteResult<H> {
    const allow: string[] = [];
    for (const e of this.entries) {
      const m = e.pattern.exec(path);
      if (!m) continue;
      if (e.method !== method.toUpperCase()) {
        allow.push(e.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) {
        if (v !== undefined) params[k] = safeDecode(v);
      }
      return { kind: 'match', match: { handler: e.handler, params, name: e.name } };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
  }
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Which client format a path speaks, for errors raised before (or without) a route match. */
export function formatForPath(
  path: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): ErrorFormat {
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/v1beta/') || path === '/v1beta') return 'gemini';
  if (path === '/v1/models' || path.startsWith('/v1/models/')) {
    return headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
  }
  if (path.startsWith('/v1/')) return 'openai';
  return 'admin';
}

/**
 * A tiny router: method + regular expression per route, named groups become params. A dozen fixed
 * routes do not justify a framework; this one also knows which error format each route speaks and
 * answers 405 with `Allow` when the path exists under another method.
 */
import type { ErrorFormat } from './clientErrors';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What a format choice may look at. */
export interface RequestView {
  headers: Headers;
  query: URLSearchParams;
}

/** The format a route answers in: fixed, or chosen from the request (paths several APIs share). */
export type FormatPick = ErrorFormat | ((req: RequestView) => ErrorFormat);

export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
  /** A short, bounded route name for logs and metric labels (never the raw path). */
  name: string;
  format: FormatPick;
}

interface Entry<H> {
  method: string;
  pattern: RegExp;
  name: string;
  handler: H;
  format: FormatPick;
}

export type RouteResult<H> =
  | { kind: 'match'; match: RouteMatch<H> }
  | { kind: 'method-not-allowed'; allow: string[]; format: FormatPick }
  | { kind: 'not-found' };

export class Router<H> {
  private readonly entries: Entry<H>[] = [];

  /**
   * `pattern` must match the whole path (anchor it); `name` is the metric label; `format` the error
   * format of the route (also used for errors raised before the handler runs, such as 401).
   */
  add(method: string, pattern: RegExp, name: string, handler: H, format: FormatPick = 'admin'): this {
    this.entries.push({ method: method.toUpperCase(), pattern, name, handler, format });
    return this;
  }

  find(method: string, path: string): RouteResult<H> {
    const allow: string[] = [];
    let format: FormatPick | undefined;
    for (const e of this.entries) {
      const m = e.pattern.exec(path);
      if (!m) continue;
      if (e.method !== method.toUpperCase()) {
        allow.push(e.method);
        format ??= e.format;
        continue;
      }
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) {
        if (v !== undefined) params[k] = safeDecode(v);
      }
      return { kind: 'match', match: { handler: e.handler, params, name: e.name, format: e.format } };
    }
    return format !== undefined ? { kind: 'method-not-allowed', allow, format } : { kind: 'not-found' };
  }
}

/** The error format of a route result: the route's own, else guessed from the path. */
export function formatOf(result: RouteResult<unknown>, url: URL, headers: Headers): ErrorFormat {
  const req: RequestView = { headers, query: url.searchParams };
  const pick =
    result.kind === 'not-found' ? undefined : result.kind === 'match' ? result.match.format : result.format;
  if (pick === undefined) return formatForPath(url.pathname, req);
  return typeof pick === 'function' ? pick(req) : pick;
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * `/v1/models` and `/v1/models/{id}` are shared by OpenAI, Anthropic and Gemini (v1) clients. They
 * differ in what their SDKs send: Anthropic's always send `anthropic-version`; Google's send the key
 * as `x-goog-api-key` (or `?key=`) and identify themselves in `x-goog-api-client`; OpenAI-style
 * clients send `Authorization: Bearer`. Anything else gets OpenAI's shape.
 */
export function sharedV1Format(req: RequestView): 'openai' | 'anthropic' | 'gemini' {
  const h = req.headers;
  if (h['anthropic-version'] !== undefined) return 'anthropic';
  if (h['x-goog-api-key'] !== undefined || h['x-goog-api-client'] !== undefined || req.query.has('key')) {
    return 'gemini';
  }
  return 'openai';
}

/** Which client format an unknown path most likely speaks, for its 404. */
export function formatForPath(path: string, req: RequestView): ErrorFormat {
  if (path.startsWith('/v1/messages')) return 'anthropic';
  if (path.startsWith('/v1beta/') || path === '/v1beta') return 'gemini';
  if (path.startsWith('/v1/')) return sharedV1Format(req);
  return 'admin';
}

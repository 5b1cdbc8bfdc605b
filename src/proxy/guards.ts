/**
 * The proxy's guards: loopback `Host` (against DNS rebinding), browser `Origin`, the local key
 * (constant-time), and the body size cap. Each refusal is an `HttpError` whose message says what to do;
 * the server writes it in the client's format.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { HttpError } from './clientErrors';
import { checkJsonDepth } from './translate/common';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Checks the `Host` header names this server on a loopback name and the right port. A page on a
 * rebinding domain (evil.example resolving to 127.0.0.1) sends its own name here and is refused.
 */
export function checkHost(host: string | undefined, port: number): void {
  const fix = `use http://127.0.0.1:${port} (or localhost:${port}) as the base URL`;
  if (!host) throw new HttpError(400, `The request has no Host header; ${fix}.`);
  const m = /^(\[[^\]]*\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  const name = m?.[1];
  const hostPort = m?.[2] === undefined ? 80 : Number(m[2]);
  if (!name || !LOOPBACK_HOSTS.has(name)) {
    throw new HttpError(
      403,
      `Host "${host}" is not a loopback name; Quota Pilot only answers requests addressed to 127.0.0.1, localhost or [::1] (this protects against DNS rebinding). ${fix[0]?.toUpperCase()}${fix.slice(1)}.`,
    );
  }
  if (hostPort !== port) {
    throw new HttpError(
      403,
      `Host "${host}" names port ${hostPort}, but the proxy listens on ${port}; ${fix}.`,
    );
  }
}

/** True when a browser `Origin` may talk to the proxy: loopback http(s) origins and VS Code webviews. */
export function isAllowedOrigin(origin: string): boolean {
  if (origin.startsWith('vscode-webview://')) return /^vscode-webview:\/\/[a-z0-9.-]+$/i.test(origin);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '')) return false;
  return LOOPBACK_HOSTS.has(url.hostname.toLowerCase());
}

/** Refuses a browser request from a foreign origin (no-op when the request has no `Origin`). */
export function checkOrigin(origin: string | undefined): void {
  if (origin === undefined) return;
  if (!isAllowedOrigin(origin)) {
    throw new HttpError(
      403,
      `Browser requests from origin "${origin}" are refused; only pages served from 127.0.0.1 / localhost and VS Code webviews may call Quota Pilot. Call the proxy from a local tool instead.`,
    );
  }
}

/** CORS response headers for an allowed origin. */
export function corsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined || !isAllowedOrigin(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

const PREFLIGHT_ALLOWED_HEADERS =
  'authorization, content-type, x-api-key, x-goog-api-key, anthropic-version, anthropic-beta, x-stainless-*';

/** Headers answering an allowed CORS preflight. */
export function preflightHeaders(
  origin: string,
  requestedHeaders: string | undefined,
): Record<string, string> {
  return {
    ...corsHeaders(origin),
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    'access-control-allow-headers':
      requestedHeaders && /^[\w\s,*-]*$/.test(requestedHeaders)
        ? requestedHeaders
        : PREFLIGHT_ALLOWED_HEADERS,
    'access-control-max-age': '600',
  };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The key a client presented: `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`. */
export function presentedKey(headers: IncomingHttpHeaders, url: URL): string | undefined {
  const auth = first(headers.authorization);
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]?.trim();
  }
  return (
    first(headers['x-api-key']) ??
    first(headers['x-goog-api-key']) ??
    url.searchParams.get('key') ??
    undefined
  );
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares presented keys with the local key in constant time (equal-length SHA-256 digests). */
export class KeyChecker {
  private expected: Buffer;

  constructor(key: string) {
    this.expected = KeyChecker.validDigest(key);
  }

  /** Replaces the key (e.g. after the user regenerated it); takes effect for the next request. */
  setKey(key: string): void {
    this.expected = KeyChecker.validDigest(key);
  }

  matches(candidate: string | undefined): boolean {
    const got = digest(candidate ?? '');
    // Always compare, even without a candidate, so timing does not tell "missing" from "wrong".
    return timingSafeEqual(got, this.expected) && candidate !== undefined;
  }

  /** Throws a 401 with what to do when the key is missing or wrong. */
  check(candidate: string | undefined): void {
    if (this.matches(candidate)) return;
    throw new HttpError(
      401,
      candidate === undefined
        ? 'Missing API key. Send the Quota Pilot local key as "Authorization: Bearer <key>", "x-api-key", "x-goog-api-key" or ?key= (copy it with the command "Quota Pilot: Copy Local Proxy Key", or read it from the output of `quota-pilot serve`).'
        : 'Wrong API key. Use the Quota Pilot local key (copy it with the command "Quota Pilot: Copy Local Proxy Key", or read it from the output of `quota-pilot serve`); it changes when regenerated.',
    );
  }

  private static validDigest(key: string): Buffer {
    if (key.length < 16) {
      throw new Error('The local key must be at least 16 characters long; generate a random one.');
    }
    return digest(key);
  }
}

/**
 * Reads the whole body, refusing with 413 as soon as it passes `limit` bytes (also when
 * `Content-Length` announces more). Rejects when `signal` aborts.
 */
export function readBody(req: IncomingMessage, limit: number, signal: AbortSignal): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(
      413,
      `The request body is larger than the proxy's limit of ${limit} bytes; send a smaller request or raise quotaPilot.proxy.maxBodyMegabytes.`,
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: unknown, body?: Buffer): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve(body as Buffer);
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop reading; the server answers 413 and closes the connection.
        req.pause();
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, Buffer.concat(chunks, size));
    const onError = (err: Error): void => finish(err);
    const onAbort = (): void => finish(signal.reason ?? new Error('aborted'));
    if (signal.aborted) {
      onAbort();
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Parses a JSON body, or throws a 400 saying what was wrong; a body nested deeper than
 * MAX_JSON_DEPTH is refused with a 400 naming the field (RequestValidationError).
 */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, 'The request body is empty; send a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(
      400,
      `The request body is not valid JSON (${err instanceof Error ? err.message : String(err)}); send a JSON object with Content-Type: application/json.`,
    );
  }
  checkJsonDepth(value);
  return value;
}

/** Refuses a request that carries more than one `Host` header (node keeps only the first). */
export function checkSingleHost(rawHeaders: readonly string[]): void {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === 'host') hosts++;
  if (hosts > 1) {
    throw new HttpError(400, `The request has ${hosts} Host headers; send exactly one.`);
  }
}

/**
 * Checks the body headers of a JSON route: `Content-Type` must be JSON (`application/json` or a
 * `+json` type, parameters allowed; an absent one is accepted, as scripts often omit it), and the body
 * must not be compressed (`Content-Encoding` other than identity), since the proxy does not decode it.
 * Refusals are 415 saying what to send.
 */
export function checkJsonBodyHeaders(headers: IncomingHttpHeaders): void {
  const type = headers['content-type'];
  if (type !== undefined) {
    const media = (type.split(';')[0] ?? '').trim().toLowerCase();
    if (media !== 'application/json' && !/^application\/[\w.+-]+\+json$/.test(media)) {
      throw new HttpError(
        415,
        `Content-Type "${type.slice(0, 100)}" is not JSON; send the body as JSON with Content-Type: application/json.`,
      );
    }
  }
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
    throw new HttpError(
      415,
      `Content-Encoding "${encoding.slice(0, 100)}" is not supported; send the request body uncompressed.`,
    );
  }
}

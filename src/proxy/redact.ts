/**
 * Keeps secrets out of logs: the local key, upstream access / refresh tokens, Authorization-style
 * headers and `key=` query parameters. Applied to every log line the proxy writes.
 */

const MASK = '[redacted]';

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
]);

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // Authorization: Bearer <token> / Basic <creds>, anywhere in a text.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${MASK}`],
  // Query parameters and form fields that carry credentials.
  [/([?&](?:key|api_key|apikey|access_token|refresh_token|client_secret|token)=)[^&\s"']*/gi, `$1${MASK}`],
  // JSON / header-ish "name": "value" pairs whose name says secret.
  [
    /("?(?:access_token|refresh_token|id_token|client_secret|api[_-]?key|x-api-key|x-goog-api-key|authorization)"?\s*[:=]\s*"?)[^"\s,}&]+/gi,
    `$1${MASK}`,
  ],
  // Google OAuth access tokens and refresh tokens.
  [/\bya29\.[A-Za-z0-9._-]+/g, MASK],
  [/\b1\/\/[A-Za-z0-9._-]{10,}/g, MASK],
  // Common API key shapes (OpenAI/Anthropic "sk-", Google "AIza", our own "qp-").
  [/\b(?:sk|qp)-[A-Za-z0-9_-]{12,}/g, MASK],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, MASK],
];

/** Removes secrets from a text; `extraSecrets` (e.g. the local key) are masked wherever they appear. */
export function redact(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of extraSecrets) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** A copy of `headers` safe to log: secret headers masked, others redacted as text. */
export function redactHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  extraSecrets: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? MASK : redact(text, extraSecrets);
  }
  return out;
}

/** A URL path + query safe to log (`?key=` and friends masked). */
export function redactUrl(url: string, extraSecrets: readonly string[] = []): string {
  return redact(url, extraSecrets);
}

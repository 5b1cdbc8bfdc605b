/**
 * A seeded, bounded fuzz run against the real proxy and the simulator over sockets: a few thousand
 * mutated requests in the OpenAI, Anthropic and Gemini formats and against the admin API. Whatever
 * the input: the process stays up, a client mistake never gets a 5xx, no answer carries internal
 * error text or the key, and afterwards every account still serves.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import type { RunningSimulator } from '../../src/simulator';
import { startSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

const KEY = 'qp-fuzz-key-0123456789abcdef';
const SEED = 20_261_208;
/** Inputs per client format; the admin API gets a third of that. */
const RUNS = 450;

const scenario: ScenarioInput = {
  name: 'fuzz',
  seed: 3,
  latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 2 },
  accounts: ['a', 'b', 'c', 'd'].map((id, i) => ({
    id,
    email: `${id}@example.com`,
    tier: 'ULTRA' as const,
    refreshToken: `rt-${id}-00000000000${i}`,
    project: `proj-${id}`,
    remaining: { claude: 1, 'gemini-flash': 1, 'gemini-pro': 1 },
  })),
};

let sim: RunningSimulator;
let host: EngineHost;
let url: string;

beforeAll(async () => {
  sim = await startSimulator({ scenario, port: 0 });
  host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: KEY },
  });
  await addSimulatorAccounts(host, sim);
  await host.start();
  await host.refresh();
  url = host.proxyStatus().url as string;
});

afterAll(async () => {
  await host.dispose();
  await sim.close();
});

/** Internal error text that must never reach a client. */
const INTERNAL =
  /Maximum call stack|RangeError|TypeError|ReferenceError|SyntaxError: |\bat \S+ \(|\.ts:\d+|node:internal/;

interface Answer {
  status: number;
  text: string;
}

async function send(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      'anthropic-version': '2023-06-01',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: r.status, text: await r.text() };
}

function check(what: string, a: Answer): void {
  const where = `${what} → ${a.status} ${a.text.slice(0, 300)}`;
  expect(a.status, where).toBeGreaterThanOrEqual(200);
  expect(a.status, where).toBeLessThan(500);
  expect(a.text, where).not.toMatch(INTERNAL);
  expect(a.text, where).not.toContain(KEY);
}

/** Sets `value` at a path of `base` (a copy along the path), creating objects on the way. */
function setAt(base: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const obj = (
    typeof base === 'object' && base !== null ? (Array.isArray(base) ? [...base] : { ...base }) : {}
  ) as Record<string | number, unknown>;
  obj[head] = setAt(obj[head], rest, value);
  return obj;
}

/** A mutation: a value (any JSON, a deep value, an odd string) at a path of a valid body. */
function mutated(base: Record<string, unknown>, paths: ReadonlyArray<readonly (string | number)[]>) {
  const deep = fc.integer({ min: 230, max: 290 }).map((n) => {
    let v: unknown = 'x';
    for (let i = 0; i < n; i++) v = i % 2 === 0 ? { k: v } : [v];
    return v;
  });
  const odd = fc.constantFrom(
    '',
    'constructor',
    '__proto__',
    'toString',
    '\u0000',
    '\uD800',
    'x'.repeat(5000),
    -1,
    1e308,
    null,
  );
  // Thousands of levels: spliced in as text, since serialising such a value overflows the stack.
  const veryDeep = fc.integer({ min: 2_000, max: 12_000 }).map((n) => `__DEEP_${n}__`);
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: veryDeep },
    { weight: 2, arbitrary: odd },
  );
  return fc.tuple(fc.constantFrom(...paths), value, fc.boolean()).map(([path, v, remove]) => {
    const body = setAt(base, path, v) as Record<string, unknown>;
    if (remove && path.length === 1) delete body[path[0] as string];
    return JSON.stringify(body).replace(/"__DEEP_(\d+)__"/, (_m, n: string) => {
      const levels = Number(n);
      return '{"a":['.repeat(levels) + '1' + ']}'.repeat(levels);
    });
  });
}

/** Raw bodies that are not the JSON a route wants. */
const garbage = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{', '[]', 'null', '{"a":1', '\u0000', '{"model":"x"}{"model":"y"}'),
);

const openaiBase = {
  model: 'gemini-3-flash',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hi' },
  ],
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
  max_tokens: 20,
};
const anthropicBase = {
  model: 'claude-sonnet-4-6',
  max_tokens: 20,
  system: 'be brief',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
  tools: [{ name: 'f', input_schema: { type: 'object', properties: {} } }],
};
const geminiBase = {
  contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
  generationConfig: { maxOutputTokens: 20 },
  tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: {} } }] }],
};

const cases = [
  {
    format: 'openai',
    path: () => fc.constant('/v1/chat/completions'),
    body: mutated(openaiBase, [
      ['model'],
      ['messages'],
      ['messages', 1],
      ['messages', 1, 'content'],
      ['messages', 1, 'role'],
      ['messages', 2],
      ['tools', 0, 'function', 'parameters'],
      ['tools', 0, 'function', 'name'],
      ['max_tokens'],
      ['stream'],
      ['response_format'],
      ['tool_choice'],
      ['n'],
    ]),
  },
  {
    format: 'anthropic',
    path: () => fc.constantFrom('/v1/messages', '/v1/messages/count_tokens'),
    body: mutated(anthropicBase, [
      ['model'],
      ['messages'],
      ['messages', 0, 'content'],
      ['messages', 0, 'content', 0],
      ['messages', 0, 'role'],
      ['messages', 1],
      ['system'],
      ['tools', 0, 'input_schema'],
      ['tools', 0],
      ['max_tokens'],
      ['thinking'],
      ['stream'],
      ['metadata'],
    ]),
  },
  {
    format: 'gemini',
    path: () =>
      fc
        .tuple(
          fc.constantFrom('v1beta', 'v1'),
          fc.constantFrom('gemini-3-flash', 'gemini-3-pro-high', 'constructor', 'x'),
          fc.constantFrom('generateContent', 'streamGenerateContent?alt=sse', 'countTokens'),
        )
        .map(([v, m, method]) => `/${v}/models/${m}:${method}`),
    body: mutated(geminiBase, [
      ['contents'],
      ['contents', 0, 'parts'],
      ['contents', 0, 'parts', 0],
      ['contents', 0, 'role'],
      ['generationConfig'],
      ['generationConfig', 'responseSchema'],
      ['generationConfig', 'maxOutputTokens'],
      ['tools', 0, 'functionDeclarations', 0, 'parameters'],
      ['systemInstruction'],
      ['toolConfig'],
    ]),
  },
];

describe('seeded fuzz run against the proxy and the simulator', () => {
  for (const c of cases) {
    it(`${c.format}: mutated and malformed bodies never crash, 5xx or leak`, async () => {
      await fc.assert(
        fc.asyncProperty(
          c.path(),
          fc.oneof({ weight: 5, arbitrary: c.body }, { weight: 1, arbitrary: garbage }),
          async (path, body) => {
            check(`${path} ${body.slice(0, 200)}`, await send('POST', path, body));
          },
        ),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    }, 60_000);
  }

  it('admin API: random bodies and ids are refused cleanly', async () => {
    const admin = fc.oneof(
      fc.tuple(
        fc.constant('POST'),
        fc.constantFrom(
          '/quota-pilot/v1/reservations',
          '/quota-pilot/v1/refresh',
          '/quota-pilot/v1/cooldowns/reset',
        ),
        fc.oneof(
          garbage,
          fc
            .record(
              {
                model: fc.oneof(fc.string(), fc.constant('gemini-3-flash')),
                tokens: fc.oneof(fc.integer(), fc.double()),
                ttlMs: fc.integer(),
                accountId: fc.string(),
              },
              { requiredKeys: [] },
            )
            .map((v) => JSON.stringify(v)),
        ),
      ),
      fc.tuple(
        fc.constant('DELETE'),
        fc
          .string({ maxLength: 80 })
          .map((id) => `/quota-pilot/v1/reservations/${encodeURIComponent(id) || 'x'}`),
        fc.constant(undefined),
      ),
      fc.tuple(
        fc.constantFrom('GET', 'PUT', 'PATCH'),
        fc.constantFrom(
          '/quota-pilot/v1/status',
          '/quota-pilot/v1/usage',
          '/quota-pilot/v1/nope',
          '/v1/models',
          '/v1beta/models/x',
        ),
        fc.constant(undefined),
      ),
    );
    await fc.assert(
      fc.asyncProperty(admin, async ([method, path, body]) => {
        check(`${method} ${path} ${body?.slice(0, 200) ?? ''}`, await send(method, path, body));
      }),
      { seed: SEED, numRuns: Math.round(RUNS / 3), endOnFailure: true },
    );
  }, 60_000);

  it('afterwards every account still serves: no cooldown, a valid request in each format succeeds', async () => {
    const snap = host.state.snapshot();
    expect(snap.cooldowns).toEqual([]);
    for (const [path, body] of [
      ['/v1/chat/completions', openaiBase],
      ['/v1/messages', anthropicBase],
      ['/v1beta/models/gemini-3-flash:generateContent', geminiBase],
    ] as const) {
      const a = await send('POST', path, JSON.stringify(body));
      expect(a.status, a.text.slice(0, 300)).toBe(200);
    }
  });
});

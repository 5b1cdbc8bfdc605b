import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock';
import { startSimulator, type RunningSimulator, type ScenarioInput } from '../../src/simulator';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);

const scenario: ScenarioInput = {
  name: 'http-test',
  latency: { firstByteMs: 0, chunkGapMs: 5, chunks: 3 },
  onboarding: { pollsUntilDone: 2 },
  capacities: { FREE: { claude: { '5h': 3, weekly: 100 } } },
  accounts: [
    { id: 'pro', email: 'pro@example.com', tier: 'PRO', refreshToken: 'refresh-pro-1', project: 'proj-pro' },
    {
      id: 'free',
      email: 'free@example.com',
      tier: 'FREE',
      refreshToken: 'refresh-free-1',
      project: 'proj-free',
    },
    {
      id: 'new',
      email: 'new@example.com',
      tier: 'FREE',
      refreshToken: 'refresh-new-1',
      project: 'needs-onboarding',
    },
    {
      id: 'ultra',
      email: 'ultra@example.com',
      tier: 'ULTRA',
      refreshToken: 'refresh-ultra-1',
      project: 'proj-ultra',
      validationRequired: { url: 'https://accounts.example.com/verify?x=1' },
    },
  ],
};

let sim: RunningSimulator;
let clock: VirtualClock;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  clock = new VirtualClock(START);
  sim = await startSimulator({ scenario: scenario, clock });
  reissueTokens();
});

function reissueTokens(): void {
  for (const a of sim.accounts) tokens[a.id] = sim.control.issueAccessToken(a.id).accessToken;
}
afterAll(async () => {
  await sim.close();
});

async function call(
  method: string,
  account: string | undefined,
  body: unknown,
  query = '',
): Promise<{ status: number; json: unknown; text: string; headers: Headers }> {
  const res = await fetch(`${sim.baseUrl}/v1internal:${method}${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(account ? { authorization: `Bearer ${tokens[account]}` } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

function envelope(model: string, project: string, request: Record<string, unknown> = {}): unknown {
  return {
    project,
    model,
    userAgent: 'antigravity',
    requestType: 'agent',
    requestId: 'agent-1234-abcd',
    request: {
      contents: [{ role: 'user', parts: [{ text: 'Please say hello' }] }],
      sessionId: 's-1',
      ...request,
    },
  };
}

async function sse(res: Response): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
    parser.feed(decoder.decode(chunk, { stream: true }));
  return events;
}

describe('loadCodeAssist and onboarding', () => {
  it('reports project and tiers', async () => {
    const pro = await call('loadCodeAssist', 'pro', {
      metadata: { ideType: 'ANTIGRAVITY', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI' },
    });
    expect(pro.status).toBe(200);
    expect(pro.json).toMatchObject({
      cloudaicompanionProject: 'proj-pro',
      paidTier: { id: 'g1-pro-tier', name: 'Google AI Pro' },
      allowedTiers: [{ id: 'free-tier', isDefault: true }, { id: 'standard-tier' }],
    });
    const free = await call('loadCodeAssist', 'free', { metadata: {} });
    expect(free.json).toMatchObject({ currentTier: { id: 'free-tier' } });
    expect(free.json).not.toHaveProperty('paidTier');
    const ultra = await call('loadCodeAssist', 'ultra', {});
    expect(ultra.json).toMatchObject({
      paidTier: { id: 'g1-ultra-tier' },
      ineligibleTiers: [
        { reasonCode: 'VALIDATION_REQUIRED', validationUrl: 'https://accounts.example.com/verify?x=1' },
      ],
    });
  });

  it('onboards an account without a project through a long-running operation', async () => {
    const before = await call('loadCodeAssist', 'new', {});
    expect(before.json).not.toHaveProperty('cloudaicompanionProject');
    expect(before.json).not.toHaveProperty('currentTier');
    const bad = await call('onboardUser', 'new', { tierId: 'g1-ultra-tier', metadata: {} });
    expect(bad.status).toBe(400);
    const op = await call('onboardUser', 'new', { tierId: 'free-tier', metadata: {} });
    expect(op.json).toEqual({ name: expect.stringMatching(/^operations\//), done: false });
    const name = (op.json as { name: string }).name;
    const poll1 = await call('getOperation', 'new', { name });
    expect(poll1.json).toEqual({ name, done: false });
    const poll2 = await fetch(`${sim.baseUrl}/v1internal/${name}`, {
      headers: { authorization: `Bearer ${tokens.new}` },
    });
    const done = (await poll2.json()) as {
      done: boolean;
      response: { cloudaicompanionProject: { id: string } };
    };
    expect(done.done).toBe(true);
    const project = done.response.cloudaicompanionProject.id;
    expect(project).toMatch(/^sim-onboarded-\d{6}$/);
    const after = await call('loadCodeAssist', 'new', {});
    expect(after.json).toMatchObject({ cloudaicompanionProject: project, currentTier: { id: 'free-tier' } });
    // Polling by posting onboardUser again also works (and a done account answers done at once).
    const again = await call('onboardUser', 'new', { tierId: 'free-tier' });
    expect(again.json).toMatchObject({ done: true, response: { cloudaicompanionProject: { id: project } } });
    // Someone else's operation is not visible.
    expect((await call('getOperation', 'pro', { name })).status).toBe(404);
  });
});

describe('quota methods', () => {
  it('fetchAvailableModels lists the catalog with quotaInfo and deprecated ids', async () => {
    sim.control.drain({ account: 'pro', pool: 'claude', toFraction: 0.25 });
    const r = await call('fetchAvailableModels', 'pro', { project: 'proj-pro' });
    expect(r.status).toBe(200);
    const body = r.json as {
      models: Record<string, { quotaInfo: { remainingFraction?: number; resetTime: string } }>;
      deprecatedModelIds: unknown;
    };
    expect(Object.keys(body.models)).toContain('gemini-3-flash');
    expect(body.models['claude-opus-4-6-thinking']).toMatchObject({
      displayName: 'Claude Opus 4.6 (Thinking)',
      modelProvider: 'MODEL_PROVIDER_ANTHROPIC',
      maxTokens: 200000,
      maxOutputTokens: 64000,
      supportsThinking: true,
      quotaInfo: { remainingFraction: 0.25 },
    });
    const h5 = sim.control.quota.windowBounds('pro', '5h');
    expect(body.models['claude-sonnet-4-6']?.quotaInfo.resetTime).toBe(
      new Date(h5.end).toISOString().replace('.000Z', 'Z'),
    );
    expect(body.deprecatedModelIds).toEqual({ 'gemini-3.1-pro-high': { newModelId: 'gemini-pro-agent' } });
    // Without a project it still answers; a foreign project is 403.
    expect((await call('fetchAvailableModels', 'pro', {})).status).toBe(200);
    expect((await call('fetchAvailableModels', 'pro', { project: 'proj-free' })).status).toBe(403);
    // Exhausted: resetTime without remainingFraction.
    sim.control.drain({ account: 'pro', model: 'gemini-3-flash', toFraction: 0 });
    const ex = (await call('fetchAvailableModels', 'pro', {})).json as typeof body;
    expect(ex.models['gemini-3-flash']?.quotaInfo).toEqual({ resetTime: expect.any(String) });
    sim.control.reset();
  });

  it('retrieveUserQuotaSummary answers the buckets, 403 without a project', async () => {
    sim.control.drain({ account: 'pro', pool: 'gemini-flash', toFraction: 0.4, window: 'weekly' });
    const r = await call('retrieveUserQuotaSummary', 'pro', { project: 'proj-pro' });
    expect(r.status).toBe(200);
    const groups = (
      r.json as {
        groups: Array<{
          displayName: string;
          buckets: Array<{ bucketId: string; window: string; remainingFraction: number }>;
        }>;
      }
    ).groups;
    expect(groups.map((g) => g.displayName)).toEqual(['Gemini Models', 'Claude and GPT models']);
    expect(groups[0]?.buckets.map((b) => [b.bucketId, b.window, b.remainingFraction])).toEqual([
      ['gemini-weekly', 'weekly', 0.4],
      ['gemini-5h', '5h', 1],
    ]);
    expect(groups[1]?.buckets.map((b) => b.bucketId)).toEqual(['3p-weekly', '3p-5h']);
    const no = await call('retrieveUserQuotaSummary', 'pro', {});
    expect(no.status).toBe(403);
    expect(no.json).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
    sim.control.reset();
  });
});

describe('generation', () => {
  it('generateContent answers the envelope with deterministic text and usage', async () => {
    const r = await call('generateContent', 'pro', envelope('claude-sonnet-4-6', 'proj-pro'));
    expect(r.status).toBe(200);
    const body = r.json as {
      response: {
        candidates: Array<{ content: { role: string; parts: unknown[] }; finishReason: string }>;
        usageMetadata: Record<string, number>;
        modelVersion: string;
        responseId: string;
      };
      traceId: string;
    };
    expect(body.response.candidates[0]).toMatchObject({
      content: {
        role: 'model',
        parts: [{ text: 'Simulated claude-sonnet-4-6 reply to: "Please say hello"' }],
      },
      finishReason: 'STOP',
    });
    expect(body.response.modelVersion).toBe('claude-sonnet-4-6');
    expect(body.response.responseId).toEqual(expect.any(String));
    expect(body.traceId).toEqual(expect.any(String));
    const u = body.response.usageMetadata;
    expect(u.totalTokenCount).toBe((u.promptTokenCount ?? 0) + (u.candidatesTokenCount ?? 0));
  });

  it('streams SSE chunk by chunk, each a {response, traceId} envelope, thinking first', async () => {
    const res = await fetch(`${sim.baseUrl}/v1internal:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.pro}`, 'content-type': 'application/json' },
      body: JSON.stringify(envelope('claude-opus-4-6-thinking', 'proj-pro')),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = await sse(res);
    expect(events).toHaveLength(4);
    const chunks = events.map(
      (e) =>
        JSON.parse(e.data) as {
          response: {
            candidates: Array<{ content: { parts: Array<Record<string, unknown>> }; finishReason?: string }>;
            usageMetadata?: Record<string, number>;
          };
          traceId: string;
        },
    );
    expect(chunks[0]?.response.candidates[0]?.content.parts[0]).toMatchObject({
      thought: true,
      thoughtSignature: expect.any(String),
    });
    const text = chunks
      .slice(1)
      .map((c) => c.response.candidates[0]?.content.parts[0]?.text)
      .join('');
    expect(text).toBe('Simulated claude-opus-4-6-thinking reply to: "Please say hello"');
    const last = chunks[chunks.length - 1];
    expect(last?.response.candidates[0]?.finishReason).toBe('STOP');
    expect(last?.response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.response.usageMetadata === undefined)).toBe(true);
  });

  it('frames SSE as "data: {json}" blocks separated by blank lines', async () => {
    const r = await call('streamGenerateContent', 'pro', envelope('gemini-3-flash', 'proj-pro'), '?alt=sse');
    const blocks = r.text.split('\n\n').filter((b) => b.length > 0);
    expect(blocks).toHaveLength(3);
    for (const b of blocks) expect(b).toMatch(/^data: \{.*\}$/);
    expect(r.text.endsWith('\n\n')).toBe(true);
  });

  it('answers a functionCall when tools are declared', async () => {
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'read_file',
            parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
          },
        ],
      },
    ];
    const ask = [{ role: 'user', parts: [{ text: 'Use read_file on src/app.ts' }] }];
    const partsOf = (json: unknown): unknown[] | undefined =>
      (json as { response: { candidates: Array<{ content: { parts: unknown[] } }> } }).response.candidates[0]
        ?.content.parts;
    const r = await call(
      'generateContent',
      'pro',
      envelope('gemini-pro-agent', 'proj-pro', { tools, contents: ask }),
    );
    expect(partsOf(r.json)).toEqual([{ functionCall: { name: 'read_file', args: { path: 'src/app.ts' } } }]);
    // A plain prompt gets text; the tool result gets text that quotes it.
    const plain = await call('generateContent', 'pro', envelope('gemini-pro-agent', 'proj-pro', { tools }));
    expect(partsOf(plain.json)).toEqual([
      { text: 'Simulated gemini-pro-agent reply to: "Please say hello"' },
    ]);
    const after = await call(
      'generateContent',
      'pro',
      envelope('gemini-pro-agent', 'proj-pro', {
        tools,
        contents: [
          ...ask,
          { role: 'model', parts: [{ functionCall: { name: 'read_file', args: { path: 'src/app.ts' } } }] },
          {
            role: 'user',
            parts: [{ functionResponse: { name: 'read_file', response: { output: 'export {}' } } }],
          },
        ],
      }),
    );
    expect(partsOf(after.json)).toEqual([
      {
        text: 'Simulated gemini-pro-agent answer after read_file returned "export {}". You asked: "Use read_file on src/app.ts"',
      },
    ]);
  });

  it('serves a deprecated id as its replacement', async () => {
    const r = await call('generateContent', 'pro', envelope('gemini-3.1-pro-high', 'proj-pro'));
    expect(r.status).toBe(200);
    expect((r.json as { response: { modelVersion: string } }).response.modelVersion).toBe('gemini-pro-agent');
  });

  it('consumes quota and answers 429 QUOTA_EXHAUSTED with delays from the window reset', async () => {
    sim.control.reset();
    for (let i = 0; i < 3; i++)
      expect((await call('generateContent', 'free', envelope('claude-sonnet-4-6', 'proj-free'))).status).toBe(
        200,
      );
    const r = await call('generateContent', 'free', envelope('claude-sonnet-4-6', 'proj-free'));
    expect(r.status).toBe(429);
    const reset = sim.control.quota.windowBounds('free', '5h').end;
    const delayS = (reset - clock.now()) / 1000;
    const details = (r.json as { error: { details: Array<Record<string, unknown>> } }).error.details;
    expect(details[0]).toMatchObject({
      reason: 'QUOTA_EXHAUSTED',
      metadata: {
        model: 'claude-sonnet-4-6',
        quotaResetTimeStamp: new Date(reset).toISOString().replace('.000Z', 'Z'),
      },
    });
    expect(details[1]).toEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: `${delayS}s`,
    });
    expect((r.json as { error: { message: string } }).error.message).toMatch(
      /Resets in \d+h\d+m\d+s\.$|Resets in \d+m\d+s\.$/,
    );
    // After the 5h boundary the account serves again.
    await sim.control.advance(reset - clock.now());
    reissueTokens(); // the advance may outlive the access tokens
    expect((await call('generateContent', 'free', envelope('claude-sonnet-4-6', 'proj-free'))).status).toBe(
      200,
    );
    expect(sim.control.stats().rateLimited).toBeGreaterThanOrEqual(1);
    sim.control.reset();
  });

  it('answers 403 VALIDATION_REQUIRED with the validation URL', async () => {
    const r = await call('generateContent', 'ultra', envelope('claude-sonnet-4-6', 'proj-ultra'));
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({
      error: {
        code: 403,
        status: 'PERMISSION_DENIED',
        details: [
          {
            reason: 'VALIDATION_REQUIRED',
            metadata: { validation_url: 'https://accounts.example.com/verify?x=1' },
          },
        ],
      },
    });
  });
});

describe('stream without alt=sse, and token costs', () => {
  it('answers a JSON array of chunks when alt=sse is missing', async () => {
    const r = await call('streamGenerateContent', 'pro', envelope('gemini-3-flash', 'proj-pro'));
    expect(r.status).toBe(200);
    const chunks = r.json as Array<{ response: { candidates: unknown[] } }>;
    expect(Array.isArray(chunks)).toBe(true);
    expect(chunks).toHaveLength(3);
  });

  it('deducts total tokens when the scenario costs in tokens', async () => {
    const s = await startSimulator({
      scenario: {
        cost: { unit: 'tokens' },
        capacities: { FREE: { claude: { '5h': 1000, weekly: 10000 } } },
        accounts: [
          { id: 't', email: 't@example.com', tier: 'FREE', refreshToken: 'refresh-t-1', project: 'p-t' },
        ],
      },
      clock: new VirtualClock(START),
    });
    try {
      const t = s.control.issueAccessToken('t').accessToken;
      const res = await fetch(`${s.baseUrl}/v1internal:generateContent`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}` },
        body: JSON.stringify(envelope('claude-sonnet-4-6', 'p-t')),
      });
      const usage = ((await res.json()) as { response: { usageMetadata: { totalTokenCount: number } } })
        .response.usageMetadata;
      expect(s.control.quota.readWindow('t', 'claude', '5h').used).toBe(usage.totalTokenCount);
      expect(s.control.quota.readWindow('t', 'claude', 'weekly').used).toBe(usage.totalTokenCount);
      expect(s.control.stats().perAccount.t).toEqual({ requests: 1, tokens: usage.totalTokenCount });
    } finally {
      await s.close();
    }
  });
});

describe('countTokens', () => {
  it('counts tokens of {request}', async () => {
    const r = await call('countTokens', 'pro', {
      request: {
        model: 'models/gemini-3-flash',
        contents: [{ role: 'user', parts: [{ text: 'twelve chars' }] }],
      },
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ totalTokens: 3 });
  });

  it('is a 400 when model or project is in the body', async () => {
    const r = await call('countTokens', 'pro', {
      model: 'gemini-3-flash',
      request: { contents: [{ parts: [{ text: 'x' }] }] },
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect(
      (
        await call('countTokens', 'pro', {
          project: 'p',
          request: { contents: [{ parts: [{ text: 'x' }] }] },
        })
      ).status,
    ).toBe(400);
  });
});

describe('errors', () => {
  it('401 UNAUTHENTICATED without, with an unknown, or with an expired token', async () => {
    const none = await call('loadCodeAssist', undefined, {});
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
    const res = await fetch(`${sim.baseUrl}/v1internal:loadCodeAssist`, {
      method: 'POST',
      headers: { authorization: 'Bearer ya29.nope' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    const t = sim.control.issueAccessToken('free');
    await clock.advanceAsync(3600 * 1000);
    const expired = await fetch(`${sim.baseUrl}/v1internal:loadCodeAssist`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.accessToken}` },
      body: '{}',
    });
    expect(expired.status).toBe(401);
    reissueTokens();
  });

  it('400 INVALID_ARGUMENT for bad JSON and bad bodies, naming the field', async () => {
    const bad = await call('generateContent', 'pro', '{not json');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message: expect.stringContaining('Invalid JSON payload'),
      },
    });
    const noContents = await call('generateContent', 'pro', {
      project: 'proj-pro',
      model: 'claude-sonnet-4-6',
      request: { contents: [] },
    });
    expect(noContents.status).toBe(400);
    expect(noContents.json).toMatchObject({
      error: {
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'request.contents' }],
          },
        ],
      },
    });
  });

  it('404 NOT_FOUND for an unknown model or path', async () => {
    const r = await call('generateContent', 'pro', envelope('claude-9', 'proj-pro'));
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    expect((await call('nope', 'pro', {})).status).toBe(404);
  });
});

describe('onboarding by re-posting onboardUser', () => {
  it('advances the same operation on each post', async () => {
    const s = await startSimulator({
      scenario: {
        onboarding: { pollsUntilDone: 2 },
        accounts: [
          {
            id: 'n',
            email: 'n@example.com',
            tier: 'FREE',
            refreshToken: 'refresh-n-1',
            project: 'needs-onboarding',
          },
        ],
      },
      clock: new VirtualClock(START),
    });
    try {
      const t = s.control.issueAccessToken('n').accessToken;
      const post = async (): Promise<{ name: string; done: boolean }> =>
        (await (
          await fetch(`${s.baseUrl}/v1internal:onboardUser`, {
            method: 'POST',
            headers: { authorization: `Bearer ${t}` },
            body: JSON.stringify({ tierId: 'free-tier', metadata: { ideType: 'ANTIGRAVITY' } }),
          })
        ).json()) as { name: string; done: boolean };
      const first = await post();
      const second = await post();
      const third = await post();
      expect([first.done, second.done, third.done]).toEqual([false, false, true]);
      expect(new Set([first.name, second.name, third.name]).size).toBe(1);
      expect(s.control.state().accounts[0]?.project).toMatch(/^sim-onboarded-/);
    } finally {
      await s.close();
    }
  });
});

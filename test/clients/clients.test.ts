// The real coding clients — Claude Code, Codex CLI, Gemini CLI, opencode, at the versions in
// scripts/clients/versions.json — run non-interactively with a temporary HOME against a real
// `quota-pilot serve --simulate demo`, each on its own defaults (default model, default tools).
// `npm run test:clients`; the global set-up installs them (scripts/clients/setup.sh, cached).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  adminStatus,
  CLIENTS,
  clientSession,
  clientsRoot,
  KEY,
  recordFixture,
  simulatorControl,
  startCapture,
  startServe,
  type Capture,
  type Exchange,
  type RunResult,
  type Serve,
  type Session,
} from './harness';

const MODEL_PATH =
  /^\/v1\/(messages|responses|chat\/completions)|^\/v1(beta)?\/models\/[^/]+:(generate|streamGenerate)Content/;
const TOOL_RESULT = /"(tool_result|function_call_output|custom_tool_call_output|functionResponse)"/;

function modelCalls(exchanges: readonly Exchange[]): Exchange[] {
  return exchanges.filter((e) => e.method === 'POST' && MODEL_PATH.test(e.path));
}

function output(r: RunResult): string {
  return `${r.stdout}\n${r.stderr}`;
}

/** What a failed run looked like, for the assertion message. */
function explain(r: RunResult, exchanges: readonly Exchange[]): string {
  const calls = exchanges.map((e) => `${e.method} ${e.path} → ${e.status}`).join('\n  ');
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''} after ${Math.round(r.ms)} ms\n--- output\n${output(r).slice(-3000)}\n--- requests\n  ${calls}`;
}

function isStreamed(e: Exchange): boolean {
  const body = e.requestBody as { stream?: unknown } | null;
  return (
    (body?.stream === true || e.path.includes(':streamGenerateContent')) &&
    (e.responseHeaders['content-type'] ?? '').includes('text/event-stream')
  );
}

interface UsageRow {
  account: string;
  model: string;
  requests: number;
}

async function usageRows(serve: Serve): Promise<UsageRow[]> {
  const status = (await adminStatus(serve)) as { sections?: { usage?: { summary?: { rows?: UsageRow[] } } } };
  return status.sections?.usage?.summary?.rows ?? [];
}

async function drainEverything(serve: Serve): Promise<void> {
  const res = await fetch(`${serve.simulatorUrl}/_simulator/state`);
  const state = (await res.json()) as { accounts: { id: string; pools: Record<string, unknown> }[] };
  for (const account of state.accounts) {
    for (const pool of Object.keys(account.pools)) {
      await simulatorControl(serve, 'drain', { account: account.id, pool, toFraction: 0 });
    }
  }
  const refreshed = await fetch(`${serve.url}/quota-pilot/v1/refresh`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: '{}',
  });
  await refreshed.text();
}

let root: string;
beforeAll(() => {
  root = clientsRoot();
});

for (const spec of CLIENTS) {
  describe(spec.name, () => {
    let serve: Serve;
    let capture: Capture;
    let session: Session;

    beforeAll(async () => {
      serve = await startServe();
    });
    afterAll(async () => {
      await serve?.stop();
    });
    afterEach(async () => {
      await capture?.stop();
      await session?.cleanup();
    });

    async function fresh(): Promise<void> {
      capture = await startCapture(serve.url);
      session = await clientSession(spec, root, capture.url);
    }

    it('answers a plain prompt on its default model', async () => {
      await fresh();
      const r = await session.prompt('Reply with one short sentence about the sea.');
      await recordFixture(spec.name, 'plain', capture.exchanges);
      const calls = modelCalls(capture.exchanges);
      expect(r.code, explain(r, capture.exchanges)).toBe(0);
      expect(calls.length).toBeGreaterThan(0);
      expect(
        calls.every((e) => e.status === 200),
        explain(r, capture.exchanges),
      ).toBe(true);
      // The simulator's answer reached the user.
      expect(r.stdout).toMatch(/Simulated .* (reply to|answer after)/);
    });

    it(`makes a tool round trip with its own ${spec.readTool} tool`, async () => {
      await fresh();
      const r = await session.prompt(spec.toolPrompt);
      await recordFixture(spec.name, 'tool-round-trip', capture.exchanges);
      const calls = modelCalls(capture.exchanges);
      expect(r.code, explain(r, capture.exchanges)).toBe(0);
      expect(
        calls.every((e) => e.status === 200),
        explain(r, capture.exchanges),
      ).toBe(true);
      // The client ran the tool and sent its result back; the model answered after it.
      const withResult = calls.filter((e) => TOOL_RESULT.test(JSON.stringify(e.requestBody)));
      expect(withResult.length, explain(r, capture.exchanges)).toBeGreaterThan(0);
      if (spec.toolReadsTheFile) {
        expect(JSON.stringify(withResult.map((e) => e.requestBody))).toContain('pineapple');
      }
      expect(r.stdout).toMatch(/answer after/);
    });

    it('streams its answers', async () => {
      await fresh();
      const r = await session.prompt('Reply with two short sentences about rivers.');
      const calls = modelCalls(capture.exchanges);
      expect(r.code, explain(r, capture.exchanges)).toBe(0);
      const streamed = calls.filter(isStreamed);
      expect(streamed.length, explain(r, capture.exchanges)).toBeGreaterThan(0);
      for (const e of streamed) {
        expect(e.status).toBe(200);
        expect(Array.isArray(e.responseBody) && e.responseBody.length > 2).toBe(true);
      }
    });

    it('keeps a three-turn conversation on one account', async () => {
      await fresh();
      const before = await usageRows(serve);
      const turns = [
        'Remember the word lighthouse.',
        'Now also remember the word harbour.',
        'Which two words?',
      ];
      let sent = 0;
      for (const [i, text] of turns.entries()) {
        const r = await session.prompt(text, i + 1);
        expect(r.code, explain(r, capture.exchanges)).toBe(0);
        const calls = modelCalls(capture.exchanges).slice(sent);
        sent += calls.length;
        expect(
          calls.every((e) => e.status === 200),
          explain(r, capture.exchanges),
        ).toBe(true);
        // Each turn carries the earlier ones: the client really continued the conversation.
        const bodies = JSON.stringify(calls.map((e) => e.requestBody));
        for (const earlier of turns.slice(0, i + 1)) expect(bodies).toContain(earlier);
      }
      await recordFixture(spec.name, 'three-turns', capture.exchanges);
      const after = await usageRows(serve);
      const grew = after.filter((row) => {
        const old = before.find((b) => b.account === row.account && b.model === row.model);
        return row.requests > (old?.requests ?? 0);
      });
      expect(grew.length).toBeGreaterThan(0);
      // Every upstream model the conversation used was served by exactly one account.
      const accountsPerModel = new Map<string, Set<string>>();
      for (const row of grew) {
        accountsPerModel.set(row.model, (accountsPerModel.get(row.model) ?? new Set()).add(row.account));
      }
      for (const [model, accounts] of accountsPerModel) {
        expect([...accounts], `${model} served by ${[...accounts].join(', ')}`).toHaveLength(1);
      }
    });

    it('stops within 30 s and says when quota returns when every account is exhausted', async () => {
      await fresh();
      await drainEverything(serve);
      const r = await session.prompt('Reply with one short sentence.', 1, 60_000);
      await recordFixture(spec.name, 'exhausted', capture.exchanges);
      expect(r.timedOut, explain(r, capture.exchanges)).toBe(false);
      expect(r.ms, explain(r, capture.exchanges)).toBeLessThan(30_000);
      expect(r.code).not.toBe(0);
      expect(output(r), explain(r, capture.exchanges)).toMatch(
        /Quota returns at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC|Try again at \w+/,
      );
    });
  });
}

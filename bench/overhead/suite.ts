/**
 * `npm run bench -- overhead`: what a proxy adds on top of the simulator (20 ms to first byte, then
 * 20 chunks 5 ms apart), at concurrency 1, 16 and 64. Paths: direct to the simulator; a minimal
 * undici pass-through (the floor); Quota Pilot (OpenAI and Anthropic formats). Whole answers are
 * driven by autocannon; streams by a client that timestamps the first and last chunk. The proxies
 * run in child processes, whose CPU, RSS and event-loop delay are reported per case.
 */
import { fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';
import { request } from 'undici';
import { z } from 'zod';
import { startSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import type { BenchRunner, BenchSuite } from '../harness';
import type { ChildStats, SimInfo } from './child';

const KEY = 'qp-bench-key-0123456789abcdef';
const MODEL = 'claude-sonnet-4-6';
const CONCURRENCY = [1, 16, 64] as const;
const QUICK = process.argv.includes('--quick');
const SECONDS = QUICK ? 1 : 3;
const BIG = { '5h': 1e9, weekly: 1e9 };

const scenario: ScenarioInput = {
  name: 'overhead',
  seed: 1,
  latency: { firstByteMs: 20, chunkGapMs: 5, chunks: 20 },
  capacities: { ULTRA: { claude: BIG, 'gemini-flash': BIG } },
  accounts: [1, 2, 3].map((i) => ({
    id: `bench-${i}`,
    email: `bench${i}@example.com`,
    tier: 'ULTRA' as const,
    refreshToken: `bench-refresh-000${i}`,
    project: `proj-bench-${i}`,
  })),
};

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The child process serving it, when it is a proxy. */
  child?: Child;
}

interface Child {
  proc: ChildProcess;
  url: string;
  stats(): Promise<ChildStats>;
}

const Reply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), url: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
  z.object({
    type: z.literal('stats'),
    stats: z.object({ cpuMs: z.number(), rssMb: z.number(), eldP50Ms: z.number(), eldP99Ms: z.number() }),
  }),
]);

async function startChild(role: string, sim: SimInfo): Promise<Child> {
  const entry = process.argv[1];
  if (!entry) throw new Error('cannot find the bench entry to fork the proxy child from');
  const proc = fork(entry, [], { env: { ...process.env, QP_BENCH_CHILD: role }, stdio: 'inherit' });
  const next = (type: 'ready' | 'stats'): Promise<z.infer<typeof Reply>> =>
    new Promise((resolve, reject) => {
      const on = (raw: unknown): void => {
        const m = Reply.safeParse(raw);
        if (!m.success) return;
        proc.off('message', on);
        if (m.data.type === 'error') reject(new Error(`${role} child: ${m.data.message}`));
        else if (m.data.type === type) resolve(m.data);
      };
      proc.on('message', on);
    });
  const ready = next('ready');
  proc.send({ type: 'start', sim });
  const r = await ready;
  if (r.type !== 'ready') throw new Error(`${role} child did not start`);
  return {
    proc,
    url: r.url,
    async stats() {
      const s = next('stats');
      proc.send({ type: 'stats' });
      const m = await s;
      if (m.type !== 'stats') throw new Error(`${role} child sent no stats`);
      return m.stats;
    },
  };
}

const CCR_KEY = 'ccr-bench-key-0123456789abcdef';
const CCR_PORT = 39_871;

/** CPU ms and RSS of any process, from /proc (Linux). */
function procStats(pid: number): { cpuMs: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuMs: ticks * 10, rssMb: Number(rss ?? 0) / 1024 };
}

/**
 * @musistudio/claude-code-router, when QP_BENCH_CCR names its dist/cli.js (installed outside the
 * repo). It speaks no Cloud Code, so its OpenAI-compatible provider is Quota Pilot's own endpoint:
 * the figure is what it adds in front of a proxy that reaches the simulator.
 */
async function startCcr(cli: string, openaiUrl: string): Promise<Child> {
  const home = mkdtempSync(join(tmpdir(), 'qp-bench-ccr-'));
  mkdirSync(join(home, '.claude-code-router'));
  writeFileSync(
    join(home, '.claude-code-router', 'config.json'),
    JSON.stringify({
      LOG: false,
      HOST: '127.0.0.1',
      PORT: CCR_PORT,
      APIKEY: CCR_KEY,
      Providers: [{ name: 'qp', api_base_url: openaiUrl, api_key: KEY, models: [MODEL] }],
      Router: { default: `qp,${MODEL}` },
    }),
  );
  const proc = spawn(process.execPath, [cli, 'start'], {
    env: { ...process.env, HOME: home },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${CCR_PORT}`;
  for (let i = 0; ; i++) {
    try {
      await request(url).then((r) => r.body.dump());
      break;
    } catch {
      if (i > 100) throw new Error('claude-code-router did not answer within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  proc.on('exit', () => rmSync(home, { recursive: true, force: true }));
  const pid = proc.pid ?? 0;
  let last = procStats(pid).cpuMs;
  return {
    proc,
    url,
    async stats() {
      const now = procStats(pid);
      const used = now.cpuMs - last;
      last = now.cpuMs;
      return { cpuMs: used, rssMb: now.rssMb, eldP50Ms: -1, eldP99Ms: -1 };
    },
  };
}

const TokenReply = z.object({ access_token: z.string().min(1) });

interface Measured {
  target: string;
  mode: 'whole' | 'stream';
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  ttfbP50Ms?: number;
  ttfbP99Ms?: number;
  rps: number;
  errors: number;
  stats?: ChildStats;
}

async function whole(t: Target, connections: number): Promise<Measured> {
  await t.child?.stats();
  const r = await autocannon({
    url: t.url,
    method: 'POST',
    headers: t.headers,
    body: t.body,
    connections,
    duration: SECONDS,
  });
  const stats = await t.child?.stats();
  return {
    target: t.name,
    mode: 'whole',
    concurrency: connections,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    rps: r.requests.average,
    errors: r.errors + r.non2xx,
    ...(stats ? { stats } : {}),
  };
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

async function stream(t: Target, concurrency: number): Promise<Measured> {
  await t.child?.stats();
  const end = performance.now() + SECONDS * 1000;
  const ttfb: number[] = [];
  const total: number[] = [];
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      let first = -1;
      try {
        const res = await request(t.url, { method: 'POST', headers: t.headers, body: t.body });
        for await (const chunk of res.body) {
          if (first < 0 && (chunk as Buffer).length > 0) first = performance.now() - t0;
        }
        if (res.statusCode !== 200) errors++;
        else {
          ttfb.push(first);
          total.push(performance.now() - t0);
        }
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const stats = await t.child?.stats();
  ttfb.sort((a, b) => a - b);
  total.sort((a, b) => a - b);
  return {
    target: t.name,
    mode: 'stream',
    concurrency,
    p50Ms: pct(total, 0.5),
    p99Ms: pct(total, 0.99),
    ttfbP50Ms: pct(ttfb, 0.5),
    ttfbP99Ms: pct(ttfb, 0.99),
    rps: total.length / elapsed,
    errors,
    ...(stats ? { stats } : {}),
  };
}

function record(bench: BenchRunner, m: Measured, base: Measured | undefined): void {
  const added = base ? `${signed(m.p50Ms - base.p50Ms)} / ${signed(m.p99Ms - base.p99Ms)} ms` : '';
  const ttfb =
    m.ttfbP50Ms !== undefined
      ? ` ttfb ${m.ttfbP50Ms.toFixed(1)}/${(m.ttfbP99Ms ?? 0).toFixed(1)} ms` +
        (base?.ttfbP50Ms !== undefined ? ` (${signed(m.ttfbP50Ms - base.ttfbP50Ms)} p50)` : '')
      : '';
  const st = m.stats
    ? ` cpu ${((m.stats.cpuMs / (SECONDS * 1000)) * 100).toFixed(0)}% rss ${m.stats.rssMb.toFixed(0)} MB eld p99 ` +
      (m.stats.eldP99Ms < 0 ? 'n/a' : `${m.stats.eldP99Ms.toFixed(1)} ms`)
    : '';
  bench.add({
    name: `${m.target} ${m.mode} c=${m.concurrency}`,
    iterations: Math.round(m.rps * SECONDS),
    batch: 1,
    p50Ns: m.p50Ms * 1e6,
    p99Ns: m.p99Ms * 1e6,
    meanNs: m.p50Ms * 1e6,
    minNs: 0,
    maxNs: m.p99Ms * 1e6,
    opsPerSec: m.rps,
    note: `${added ? `added p50/p99 ${added};` : 'baseline;'}${ttfb}${st}${m.errors ? ` errors ${m.errors}` : ''}`,
  });
}

/** A difference in ms with its sign (a noisy baseline p99 can exceed the proxied one). */
function signed(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(1)}`;
}

export const overheadSuite: BenchSuite = {
  name: 'overhead',
  async run(bench) {
    const sim = await startSimulator({ scenario, port: 0 });
    const children: Child[] = [];
    try {
      const a = sim.accounts[0];
      if (!a) throw new Error('overhead scenario has no account');
      const tokenRes = await request(sim.oauth.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: a.refreshToken,
          client_id: a.clientId,
          client_secret: a.clientSecret,
        }).toString(),
      });
      const token = TokenReply.parse(await tokenRes.body.json()).access_token;
      const info: SimInfo = { baseUrl: sim.baseUrl, oauth: sim.oauth, accounts: sim.accounts, key: KEY };
      const floor = await startChild('floor', info);
      const qp = await startChild('quota-pilot', info);
      children.push(floor, qp);
      const ccrCli = process.env.QP_BENCH_CCR;
      let ccr: Child | null = null;
      if (ccrCli) {
        try {
          ccr = await startCcr(ccrCli, `${qp.url}/v1/chat/completions`);
          children.push(ccr);
        } catch (err) {
          console.log(
            `  peer claude-code-router not run: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }

      const cc = (): string =>
        JSON.stringify({
          project: 'proj-bench-1',
          model: MODEL,
          userAgent: 'antigravity',
          requestType: 'agent',
          requestId: 'agent-bench',
          request: { contents: [{ role: 'user', parts: [{ text: 'Reply please' }] }] },
        });
      const ccHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const oai = (s: boolean): string =>
        JSON.stringify({ model: MODEL, stream: s, messages: [{ role: 'user', content: 'Reply please' }] });
      const ant = (s: boolean): string =>
        JSON.stringify({
          model: MODEL,
          max_tokens: 256,
          stream: s,
          messages: [{ role: 'user', content: 'Reply please' }],
        });
      const targets = (s: boolean): Target[] => {
        const method = s ? 'streamGenerateContent?alt=sse' : 'generateContent';
        return [
          { name: 'direct', url: `${sim.baseUrl}/v1internal:${method}`, headers: ccHeaders, body: cc() },
          {
            name: 'undici floor',
            url: `${floor.url}/v1internal:${method}`,
            headers: ccHeaders,
            body: cc(),
            child: floor,
          },
          {
            name: 'quota-pilot openai',
            url: `${qp.url}/v1/chat/completions`,
            headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
            body: oai(s),
            child: qp,
          },
          {
            name: 'quota-pilot anthropic',
            url: `${qp.url}/v1/messages`,
            headers: {
              'x-api-key': KEY,
              'anthropic-version': '2023-06-01',
              'content-type': 'application/json',
            },
            body: ant(s),
            child: qp,
          },
          ...(ccr
            ? [
                {
                  name: 'ccr → quota-pilot',
                  url: `${ccr.url}/v1/messages`,
                  headers: {
                    'x-api-key': CCR_KEY,
                    'anthropic-version': '2023-06-01',
                    'content-type': 'application/json',
                  },
                  body: ant(s),
                  child: ccr,
                },
              ]
            : []),
        ];
      };
      const rows: Measured[] = [];
      for (const s of [false, true]) {
        for (const c of CONCURRENCY) {
          let base: Measured | undefined;
          for (const t of targets(s)) {
            const m = s ? await stream(t, c) : await whole(t, c);
            if (t.name === 'direct') base = m;
            record(bench, m, base);
            rows.push(m);
            console.log(
              `  ${m.mode} c=${c} ${t.name}: p50 ${m.p50Ms.toFixed(1)} ms p99 ${m.p99Ms.toFixed(1)} ms, ${m.rps.toFixed(0)} req/s` +
                (m.errors ? `, ${m.errors} errors` : ''),
            );
          }
        }
      }
      if (!ccr) {
        console.log(
          '  peer @musistudio/claude-code-router not run: set QP_BENCH_CCR to its dist/cli.js (install 1.0.73 outside ' +
            'the repo; 3.1.1 depends on @the-next-ai/ai-gateway, which npm does not serve). It speaks no Cloud Code, ' +
            "so it runs in front of Quota Pilot's OpenAI endpoint.",
        );
      }
    } finally {
      for (const c of children) c.proc.kill();
      await sim.close();
    }
  },
};

/**
 * The proxies under test, each in its own child process (forked from dist/bench.js with
 * QP_BENCH_CHILD set) so its CPU, RSS and event-loop delay are its own:
 * - "floor": a minimal undici pass-through to the simulator (what any proxy pays);
 * - "quota-pilot": the real EngineHost (routing, guards, translation) against the simulator.
 * The parent sends the simulator's coordinates; the child answers with its URL, then with stats on
 * request ({ type: 'stats' }).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

export const SimInfoSchema = z.object({
  baseUrl: z.string().url(),
  oauth: z.object({ authorizeUrl: z.string(), tokenUrl: z.string(), userinfoUrl: z.string() }),
  accounts: z.array(
    z.object({
      email: z.string(),
      tier: z.enum(['FREE', 'PRO', 'ULTRA']),
      refreshToken: z.string(),
      clientId: z.string(),
      clientSecret: z.string(),
    }),
  ),
  key: z.string(),
});
export type SimInfo = z.infer<typeof SimInfoSchema>;

export interface ChildStats {
  cpuMs: number;
  rssMb: number;
  eldP50Ms: number;
  eldP99Ms: number;
}

const StartMessage = z.object({ type: z.literal('start'), sim: SimInfoSchema });
const StatsMessage = z.object({ type: z.literal('stats') });

async function startFloor(sim: SimInfo): Promise<string> {
  const upstream = new URL(sim.baseUrl);
  const agent = new Agent({ connections: 256, pipelining: 1 });
  const server = createServer((req, res) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
    }
    request(new URL(req.url ?? '/', upstream), {
      method: (req.method ?? 'GET') as 'POST',
      headers,
      body: req,
      dispatcher: agent,
    }).then(
      (up) => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(up.headers)) {
          if (typeof v === 'string' && k !== 'connection' && k !== 'transfer-encoding') out[k] = v;
        }
        res.writeHead(up.statusCode, out);
        up.body.pipe(res);
      },
      (err: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`pass-through failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startQuotaPilot(sim: SimInfo): Promise<string> {
  const host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: sim.key },
  });
  await addSimulatorAccounts(host, sim);
  await host.start();
  await host.refresh();
  const url = host.proxyStatus().url;
  if (!url) throw new Error('Quota Pilot proxy did not start: no URL in proxyStatus()');
  return url;
}

/** Runs in the child: starts the role, reports its URL, answers stats requests. */
export async function runChild(role: string): Promise<void> {
  const send = (m: unknown): void => void process.send?.(m);
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  let cpu = process.cpuUsage();
  process.on('message', (raw: unknown) => {
    const start = StartMessage.safeParse(raw);
    if (start.success) {
      const go = role === 'floor' ? startFloor : role === 'quota-pilot' ? startQuotaPilot : null;
      if (!go) {
        send({ type: 'error', message: `unknown child role "${role}": use floor or quota-pilot` });
        return;
      }
      go(start.data.sim).then(
        (url) => send({ type: 'ready', url }),
        (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
      );
      return;
    }
    if (StatsMessage.safeParse(raw).success) {
      const used = process.cpuUsage(cpu);
      const stats: ChildStats = {
        cpuMs: (used.user + used.system) / 1000,
        rssMb: process.memoryUsage().rss / 1024 / 1024,
        eldP50Ms: eld.percentile(50) / 1e6,
        eldP99Ms: eld.percentile(99) / 1e6,
      };
      eld.reset();
      cpu = process.cpuUsage();
      send({ type: 'stats', stats });
    }
  });
  process.on('disconnect', () => process.exit(0));
  await new Promise<void>(() => undefined);
}

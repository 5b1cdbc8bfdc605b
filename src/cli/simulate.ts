/** `quota-pilot simulate`: runs the Cloud Code + OAuth simulator until SIGINT / SIGTERM. */
import type { CliCommand } from './command';
import { BUILTIN_SCENARIOS, startSimulator, type RunningSimulator } from '../simulator';

const HELP = `Usage: quota-pilot simulate --scenario <name or file> [--port N] [--host H] [--time-scale X | --virtual-clock] [--seed N] [--quiet]

Runs a local Cloud Code (v1internal) + Google OAuth simulator with quotas, windows and faults.

The FIRST line of output is always exactly:
  Simulator listening on http://127.0.0.1:PORT
so scripts can read the base URL from it (the last word of the first line). Then a short account table
follows, then one line per request unless --quiet. Stops cleanly on SIGINT / SIGTERM.

Options:
  --scenario <name|file>  built-in: ${Object.keys(BUILTIN_SCENARIOS).join(', ')}; or the path of a JSON scenario file (default demo)
  --port <N>              port on the host (default 0: any free port)
  --host <H>              address to bind (default 127.0.0.1)
  --time-scale <X>        simulated time runs X times faster (60 = one simulated hour per real minute)
  --virtual-clock         time stands still until POST /_simulator/advance {"ms": N} moves it (for tests)
  --seed <N>              overrides the scenario's seed for fault draws
  --quiet                 no per-request lines

Endpoints: POST {base}/v1internal:<method>, GET {base}/o/oauth2/v2/auth, POST {base}/token,
GET {base}/oauth2/v2/userinfo, and the control API under {base}/_simulator/ (GET state, POST drain,
reset, fault, clear-faults, advance, expire-tokens, revoke, account-status).`;

function parseNumber(
  value: string | boolean | undefined,
  name: string,
  integer: boolean,
): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return n;
}

export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'Run the Cloud Code + OAuth upstream simulator (demo mode, tests, benchmarks)',
  help: HELP,
  options: {
    scenario: { type: 'string', short: 's' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'time-scale': { type: 'string' },
    'virtual-clock': { type: 'boolean' },
    seed: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  async run(values) {
    let sim: RunningSimulator;
    // Request lines wait until the banner is out, so the URL stays on the first line.
    let ready = false;
    const early: string[] = [];
    try {
      const port = parseNumber(values.port, 'port', true);
      if (port !== undefined && (port < 0 || port > 65535))
        throw new Error(`--port must be 0..65535, got ${port}`);
      const timeScale = parseNumber(values['time-scale'], 'time-scale', false);
      if (timeScale !== undefined && !(timeScale > 0))
        throw new Error(`--time-scale must be > 0, got ${timeScale}`);
      if (values['virtual-clock'] && timeScale !== undefined) {
        throw new Error('--virtual-clock and --time-scale exclude each other: pick one');
      }
      sim = await startSimulator({
        virtualClock: values['virtual-clock'] === true,
        scenario: typeof values.scenario === 'string' ? values.scenario : 'demo',
        port,
        host: typeof values.host === 'string' ? values.host : undefined,
        timeScale,
        seed: parseNumber(values.seed, 'seed', true),
        log: values.quiet
          ? undefined
          : (line) => (ready ? process.stdout.write(`${line}\n`) : early.push(line)),
      });
    } catch (err) {
      process.stderr.write(`quota-pilot simulate: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    const out: string[] = [`Simulator listening on ${sim.baseUrl}`];
    out.push(
      `scenario ${sim.scenario.name}, ${sim.accounts.length} accounts, OAuth client ${sim.scenario.oauth.clientId}`,
    );
    const shown = sim.accounts.slice(0, 20);
    const w = Math.max(...shown.map((a) => a.email.length), 5);
    out.push(`  ${'id'.padEnd(12)} ${'email'.padEnd(w)} tier`);
    for (const a of shown) out.push(`  ${a.id.padEnd(12)} ${a.email.padEnd(w)} ${a.tier}`);
    if (sim.accounts.length > shown.length) out.push(`  … and ${sim.accounts.length - shown.length} more`);
    out.push(`control: ${sim.baseUrl}/_simulator/state    stop: Ctrl+C`);
    process.stdout.write(`${[...out, ...early].join('\n')}\n`);
    ready = true;
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await sim.close();
    process.stdout.write('Simulator stopped.\n');
    return 0;
  },
};

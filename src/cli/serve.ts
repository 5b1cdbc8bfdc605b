/**
 * `quota-pilot serve`: the engine and the local proxy outside VS Code. The first line of output is
 * the proxy's base URL — log lines of the start-up (e.g. a corrupt ledger set aside) are held back
 * and go to stderr right after it, so even a terminal that mixes stdout and stderr shows the URL
 * first. SIGINT / SIGTERM stop it gracefully (the ledger is flushed).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SystemClock } from '../core/clock';
import { addSimulatorAccounts, simulatorOAuth } from '../host/demo';
import { EngineHost } from '../host/engineHost';
import type { RunningSimulator } from '../simulator';
import { startSimulator } from '../simulator';
import { resolveDataDir } from '../store/dataDir';
import { parseCredentialsFile } from '../upstream/cloudcode/credentials';
import { DEFAULT_BASE_URLS } from '../upstream/cloudcode/client';
import { GOOGLE_OAUTH_ENDPOINTS, MemoryTokenStore } from '../upstream/cloudcode/oauth';
import type { CliCommand } from './command';

const HELP = `Usage: quota-pilot serve [--port N] [--simulate <scenario>] [--accounts <file>] [--data-dir DIR] [--key K] [--quiet]

Runs the quota engine and the local OpenAI-, Anthropic- and Gemini-compatible proxy on 127.0.0.1.
The FIRST line of output is always:
  Quota Pilot proxy listening on http://127.0.0.1:PORT

Options:
  --port <N>             proxy port (default 8383; 0 picks a free port)
  --simulate <scenario>  start the built-in Cloud Code simulator in this process (demo, stress, faulty or a
                         scenario file) and use its accounts — no network needed
  --accounts <file>      JSON credentials to load: gemini-cli oauth_creds.json, Antigravity-Manager account
                         files, or a list of {email, refresh_token, client_id, client_secret}
  --data-dir <DIR>       folder of the usage ledger (default $QUOTA_PILOT_DATA_DIR or ~/.quota-pilot)
  --key <K>              the local key clients must send (default $QUOTA_PILOT_KEY, else a new random key
                         printed once)
  --first-byte-timeout <S>  seconds to wait for a streamed answer's first byte before trying another
                         account (default 30; 5–600)
  --quiet                no per-request log lines

Clients: OpenAI  POST /v1/chat/completions, POST /v1/responses (Codex CLI) · Anthropic POST /v1/messages
         Gemini  POST /v1beta/models/<m>:generateContent
Admin:   /quota-pilot/v1/status, /usage, /reservations, /refresh, /cooldowns/reset · GET /healthz · GET /metrics`;

/** Log lines for stderr, held back until `release` (then written, and later ones straight away). */
class HeldBackLog {
  private held: string[] | null = [];
  private dropped = 0;

  write(line: string): void {
    if (this.held === null) process.stderr.write(line);
    else if (this.held.length < 500) this.held.push(line);
    else this.dropped++;
  }

  release(): void {
    if (this.held === null) return;
    for (const line of this.held) process.stderr.write(line);
    if (this.dropped > 0) process.stderr.write(`(${this.dropped} more start-up log lines not shown)\n`);
    this.held = null;
  }
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Run the quota engine and the local proxy (optionally against the built-in simulator)',
  help: HELP,
  options: {
    port: { type: 'string', short: 'p' },
    simulate: { type: 'string' },
    accounts: { type: 'string' },
    'data-dir': { type: 'string' },
    key: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    'first-byte-timeout': { type: 'string' },
  },
  async run(values) {
    const firstByteTimeoutSeconds =
      values['first-byte-timeout'] === undefined ? 30 : Number(values['first-byte-timeout']);
    if (
      !Number.isInteger(firstByteTimeoutSeconds) ||
      firstByteTimeoutSeconds < 5 ||
      firstByteTimeoutSeconds > 600
    ) {
      process.stderr.write(
        `quota-pilot serve: --first-byte-timeout must be whole seconds 5–600, got "${String(values['first-byte-timeout'])}"\n`,
      );
      return 2;
    }
    const port = values.port === undefined ? 8383 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(
        `quota-pilot serve: --port must be an integer 0–65535, got "${String(values.port)}"\n`,
      );
      return 2;
    }
    if (!values.simulate && !values.accounts) {
      process.stderr.write(
        'quota-pilot serve: no accounts. Use --simulate demo to try it with simulated accounts, or --accounts <file>.\n',
      );
      return 2;
    }
    const envKey = process.env['QUOTA_PILOT_KEY'];
    const given = typeof values.key === 'string' ? values.key : envKey;
    if (given !== undefined && given.length < 16) {
      process.stderr.write('quota-pilot serve: the local key must be at least 16 characters.\n');
      return 2;
    }
    const key = given ?? `qp-${randomBytes(24).toString('base64url')}`;
    const quiet = values.quiet === true;
    const clock = new SystemClock();
    let sim: RunningSimulator | undefined;
    let host: EngineHost | undefined;
    const startupLog = new HeldBackLog();
    let stopSignal: Promise<void> = Promise.resolve();
    let removeStopHandlers = (): void => undefined;
    try {
      let credentials: ReturnType<typeof parseCredentialsFile> = [];
      if (typeof values.accounts === 'string') {
        credentials = parseCredentialsFile(await readFile(values.accounts, 'utf8'), {});
      }
      if (typeof values.simulate === 'string')
        sim = await startSimulator({ scenario: values.simulate, port: 0 });
      const log = (level: string) => (m: string) => {
        if (!quiet || level === 'error' || level === 'warn') startupLog.write(`${level}: ${m}\n`);
      };
      host = await EngineHost.create({
        clock,
        dataDir: resolveDataDir(typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined),
        tokenStore: new MemoryTokenStore(),
        oauth: sim
          ? simulatorOAuth(sim)
          : { ...GOOGLE_OAUTH_ENDPOINTS, clientId: credentials[0]?.clientId ?? '' },
        baseUrls: sim ? [sim.baseUrl] : DEFAULT_BASE_URLS,
        proxy: { enabled: true, port, key },
        firstByteTimeoutSeconds,
        logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: () => {} },
        version: '0.1.0',
      });
      if (sim) await addSimulatorAccounts(host, sim);
      for (const c of credentials) {
        await host.addAccount({
          email: c.email ?? `account-${c.refreshToken.slice(-6)}`,
          tokens: {
            refreshToken: c.refreshToken,
            clientId: c.clientId,
            ...(c.clientSecret ? { clientSecret: c.clientSecret } : {}),
            ...(c.accessToken ? { accessToken: c.accessToken } : {}),
            ...(c.expiresAt ? { expiresAt: c.expiresAt } : {}),
          },
        });
      }
      // Listen for SIGINT / SIGTERM before the URL line goes out: a stop that arrives right after it
      // (a script that read the line, a quick Ctrl-C) must still shut down cleanly and flush the ledger.
      stopSignal = new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        removeStopHandlers = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await host.start();
      const status = host.proxyStatus();
      if (!status.running) throw new Error(status.error ?? 'the proxy did not start');
      process.stdout.write(`Quota Pilot proxy listening on ${status.url}\n`);
      startupLog.release();
      process.stdout.write(
        `Accounts: ${host.registry.list().length}${sim ? ` (simulated, upstream ${sim.baseUrl})` : ''}\n`,
      );
      if (given === undefined)
        process.stdout.write(`Local key (send as Bearer, x-api-key or x-goog-api-key): ${key}\n`);
      else process.stdout.write('Local key: as given\n');
    } catch (err) {
      removeStopHandlers();
      startupLog.release();
      process.stderr.write(`quota-pilot serve: ${err instanceof Error ? err.message : String(err)}\n`);
      await host?.dispose().catch(() => undefined);
      await sim?.close().catch(() => undefined);
      return 1;
    }
    await stopSignal;
    await host.dispose();
    await sim?.close();
    return 0;
  },
};

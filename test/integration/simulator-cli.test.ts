import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist', 'cli.js');

beforeAll(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'pipe' });
}, 60_000);

function run(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  firstLine: Promise<string>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout });
  const firstLine = new Promise<string>((res) => lines.once('line', res));
  lines.on('line', (l) => (stdout += `${l}\n`));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('close', (code) => res({ code, stdout, stderr })),
  );
  return { child, firstLine, exit };
}

describe('quota-pilot simulate', () => {
  it('prints the base URL first, serves, and stops cleanly on SIGTERM', async () => {
    const { child, firstLine, exit } = run(['simulate', '--scenario', 'demo', '--port', '0', '--quiet']);
    const line = await firstLine;
    const m = /^Simulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const base = (m as RegExpExecArray)[1] as string;
    const state = (await (await fetch(`${base}/_simulator/state`)).json()) as { accounts: unknown[] };
    expect(state.accounts).toHaveLength(4);
    const t = await fetch(`${base}/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'sim-refresh-pro-0002',
        client_id: 'sim-client-id',
        client_secret: 'sim-client-secret',
      }),
    });
    const access = ((await t.json()) as { access_token: string }).access_token;
    const load = await fetch(`${base}/v1internal:loadCodeAssist`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}` },
      body: '{}',
    });
    expect(await load.json()).toMatchObject({ cloudaicompanionProject: 'sim-pro-project' });
    child.kill('SIGTERM');
    const done = await exit;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('ben.pro@example.com');
    expect(done.stdout).toContain('Simulator stopped.');
  });

  it('fails clearly on a bad scenario file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qp-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [{ id: 'x', email: 'x@example.com', tier: 'GOLD', refreshToken: 'refresh-x-1' }],
      }),
    );
    const { exit } = run(['simulate', '--scenario', file]);
    const done = await exit;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('accounts.0.tier: tier must be "FREE", "PRO" or "ULTRA"');
  });

  it('fails clearly on a taken port', async () => {
    const first = run(['simulate', '--port', '0', '--quiet']);
    const port = /:(\d+)$/.exec(await first.firstLine)?.[1] as string;
    const second = run(['simulate', '--port', port]);
    const done = await second.exit;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    first.child.kill('SIGINT');
    expect((await first.exit).code).toBe(0);
  });

  it('documents the first-line contract in its help', () => {
    const out = execFileSync(process.execPath, [CLI, 'help', 'simulate'], { encoding: 'utf8' });
    expect(out).toContain('Simulator listening on http://127.0.0.1:PORT');
    expect(out).toContain('--time-scale');
  });
});

describe('quota-pilot simulate --virtual-clock', () => {
  it('holds time still until the control API advances it', async () => {
    const { child, firstLine, exit } = run(['simulate', '--virtual-clock', '--quiet']);
    const base = (await firstLine).split(' ').pop() as string;
    const now = async (): Promise<number> =>
      Date.parse(((await (await fetch(`${base}/_simulator/state`)).json()) as { now: string }).now);
    const t0 = await now();
    const adv = await fetch(`${base}/_simulator/advance`, {
      method: 'POST',
      body: JSON.stringify({ ms: 5 * 3_600_000 }),
    });
    expect(adv.status).toBe(200);
    expect((await now()) - t0).toBe(5 * 3_600_000);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
  });

  it('refuses --virtual-clock together with --time-scale', async () => {
    const done = await run(['simulate', '--virtual-clock', '--time-scale', '60']).exit;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain('exclude each other');
  });
});

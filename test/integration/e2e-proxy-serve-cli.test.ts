/** `quota-pilot serve --simulate demo` from the bundled CLI: first line, a real SDK call, clean stop. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as esbuild from 'esbuild';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
let dir: string;
let cli: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qp-serve-cli-'));
  cli = join(dir, 'cli.js');
  // Same options as the CLI entry of esbuild.mjs (a private copy, so no test races dist/).
  await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'cli.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: cli,
    logLevel: 'silent',
  });
}, 60_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('quota-pilot serve', () => {
  it('prints the proxy URL first, serves an SDK request against the simulator, stops on SIGTERM', async () => {
    const key = 'qp-cli-test-key-000000000000';
    const child = spawn(
      process.execPath,
      [cli, 'serve', '--simulate', 'demo', '--port', '0', '--data-dir', dir, '--quiet'],
      {
        env: { ...process.env, QUOTA_PILOT_KEY: key },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolveLine, reject) => {
      lines.once('line', resolveLine);
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    expect(first).toMatch(/^Quota Pilot proxy listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = first.split(' ').pop() as string;
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
    const r = await openai.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'from the CLI' }],
    });
    expect(r.choices[0]?.message.content).toContain('from the CLI');
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toContain(key);
  }, 60_000);

  it('explains what is missing without accounts, and refuses a short key', async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; err: string }>((res) => {
        const c = spawn(process.execPath, [cli, 'serve', ...args], { env: { ...process.env, ...env } });
        let err = '';
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => res({ code, err }));
      });
    expect(await run(['--port', '0'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--simulate demo/),
    });
    expect(await run(['--simulate', 'demo', '--key', 'short'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/at least 16/),
    });
    expect(await run(['--simulate', 'demo', '--port', 'x'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--port/),
    });
  });

  it('prints the URL first even when start-up warns (a corrupt ledger), and keeps the bad file 0600', async () => {
    const data = join(dir, 'corrupt-data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'ledger.json'), '{"version": 2, "counters": [tru', { mode: 0o644 });
    // One pipe for stdout and stderr, as a terminal shows them.
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        `exec "${process.execPath}" "${cli}" serve --simulate demo --port 0 --quiet --data-dir "${data}" 2>&1`,
      ],
      {
        env: { ...process.env, QUOTA_PILOT_KEY: 'qp-cli-test-key-000000000000' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout });
    const seen: string[] = [];
    await new Promise<void>((resolveLines, reject) => {
      lines.on('line', (l) => {
        seen.push(l);
        const warned = seen.some((x) => x.includes('ledger.json was unreadable'));
        if (warned && seen.some((x) => x.includes('proxy listening on'))) resolveLines();
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${seen.join('\n')}`)));
    });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(seen[0]).toMatch(/^Quota Pilot proxy listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(await exited).toBe(0);
    expect(seen.findIndex((l) => l.startsWith('warn: usage ledger:'))).toBeGreaterThan(0);
    const aside = (await readdir(data)).filter((n) => n.startsWith('ledger.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect((await stat(join(data, aside[0] ?? ''))).mode & 0o777).toBe(0o600);
  }, 60_000);
});

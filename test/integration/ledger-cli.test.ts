/**
 * `quota-pilot status` end to end: the CLI bundled exactly as `npm run build` bundles dist/cli.js
 * (into a temporary folder, so parallel test files never race on dist/), spawned with `node` on a
 * prepared data folder.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../src/core/clock';
import { DailySummarySchema, UsageLedger } from '../../src/core/ledger';
import { FileLedgerStore } from '../../src/store/ledgerFileStore';

const ROOT = resolve(__dirname, '../..');
let dir: string;
let cli: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'qp-ledger-cli-'));
  cli = join(dir, 'cli.js');
  // Same options as the CLI entry of esbuild.mjs.
  await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'cli.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: cli,
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
  });
}, 60_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, QUOTA_PILOT_DATA_DIR: '' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

/** A data folder with 7 requests; `crashed`: the writer died before folding its journal in. */
async function prepare(name: string, timeZone = 'UTC', crashed = false): Promise<string> {
  const dataDir = join(dir, name);
  const ledger = await UsageLedger.open({
    clock: new SystemClock(),
    store: new FileLedgerStore(join(dataDir, 'ledger.json')),
    config: { timeZone },
  });
  ledger.setLimits([{ account: 'a@example.com', window: 'daily', requests: 10 }]);
  for (let i = 0; i < 6; i++)
    ledger.record({
      account: 'a@example.com',
      model: 'claude-sonnet-4-6',
      inputTokens: 1200,
      outputTokens: 300,
    });
  ledger.record({
    account: 'b@example.com',
    model: 'gemini-3-flash',
    inputTokens: 20_000,
    thinkingTokens: 500,
    error: true,
  });
  if (crashed) await ledger.flush();
  else await ledger.dispose();
  return dataDir;
}

describe('quota-pilot status', () => {
  it('prints the daily summary table of the ledger in --data-dir', async () => {
    const dataDir = await prepare('filled');
    const r = await run(['status', '--data-dir', dataDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Usage on \d{4}-\d{2}-\d{2} \(UTC\) — daily window resets /);
    expect(lines[1]).toMatch(/^Account\s+Model\s+Requests/);
    expect(r.stdout).toMatch(
      /a@example\.com\s+claude-sonnet-4-6\s+6\s+7200\s+1800\s+0\s+0\s+10 req\/daily\s+60%\s+4\s+-\s+50%/,
    );
    expect(r.stdout).toMatch(/b@example\.com\s+gemini-3-flash\s+1\s+20k\s+0\s+500\s+1/);
    expect(lines.at(-1)).toMatch(/^Total\s+7\s/);
  });

  it('prints the same summary as JSON with --json, in the time zone the ledger was written with', async () => {
    const dataDir = await prepare('json', 'Europe/Paris');
    const r = await run(['status', '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(0);
    const s = DailySummarySchema.parse(JSON.parse(r.stdout));
    expect(s.timeZone).toBe('Europe/Paris');
    expect(s.totals.requests).toBe(7);
  });

  it('reads usage still only in the journal, and warns about a torn last line without failing', async () => {
    const dataDir = await prepare('journal-only', 'UTC', true);
    await expect(fs.access(join(dataDir, 'ledger.json'))).rejects.toThrow();
    await fs.appendFile(join(dataDir, 'ledger.journal'), '{"type":"rec');
    const r = await run(['status', '--data-dir', dataDir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('ends with an incomplete line');
    expect(DailySummarySchema.parse(JSON.parse(r.stdout)).totals.requests).toBe(7);
  });

  it('says clearly when there is no ledger yet', async () => {
    const r = await run(['status', '--data-dir', join(dir, 'nothing-here')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`No usage ledger yet in ${join(dir, 'nothing-here')}`);
  });

  it('reports a corrupt ledger without moving it (status only reads)', async () => {
    const dataDir = join(dir, 'corrupt');
    await fs.mkdir(dataDir);
    await fs.writeFile(join(dataDir, 'ledger.json'), '{"version": 2,');
    const r = await run(['status', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is unreadable');
    expect(await fs.readdir(dataDir)).toEqual(['ledger.json']);
  });

  it('rejects an unknown option with the usage', async () => {
    const r = await run(['status', '--data-dir', join(dir, 'x'), '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: quota-pilot status');
  });

  it('is listed in help', async () => {
    const r = await run(['help']);
    expect(r.stdout).toMatch(/status\s+Print today's usage/);
    expect((await run(['help', 'status'])).stdout).toContain('--data-dir DIR');
  });
});

/**
 * The ledger file shared by real processes: two Node processes append records to one file at the
 * same time and none is lost; a process without permission to the file gets a reported problem.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerDocSchema } from '../../src/core/ledger';

let dir: string;
let child: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'qp-ledger-procs-'));
  await fs.chmod(dir, 0o755);
  child = join(dir, 'ledger-child.js');
  await esbuild.build({
    entryPoints: [join(__dirname, 'ledger-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: child,
    logLevel: 'silent',
  });
  await fs.chmod(child, 0o755);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], uid?: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('two processes writing one ledger file', () => {
  it('lose none of each other’s records', async () => {
    const file = join(dir, 'shared', 'ledger.json');
    const N = 200;
    const [p1, p2] = await Promise.all([
      run(['append', file, 'one@example.com', String(N)]),
      run(['append', file, 'two@example.com', String(N)]),
    ]);
    for (const p of [p1, p2]) {
      expect(p.stderr).toBe('');
      expect(p.code).toBe(0);
      expect(JSON.parse(p.stdout)).toEqual({ problems: [] });
    }
    const doc = LedgerDocSchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
    const daily = (account: string, model: string): number =>
      doc.counters
        .filter((c) => c.window === 'daily' && c.account === account && c.model === model)
        .reduce((n, c) => n + c.requests, 0);
    expect(daily('one@example.com', 'gemini-3-flash')).toBe(N);
    expect(daily('two@example.com', 'gemini-3-flash')).toBe(N);
    expect(daily('shared', 'claude-sonnet-4-6')).toBe(2 * N);
    const tokens = doc.counters
      .filter((c) => c.window === 'daily' && c.account === 'shared')
      .reduce((n, c) => n + c.inputTokens, 0);
    expect(tokens).toBe(2 * N);
    // The two really ran at the same time (otherwise this test would prove nothing).
    const span = (account: string) =>
      doc.counters.find((c) => c.window === 'daily' && c.account === account) ?? { firstAt: 0, lastAt: 0 };
    const one = span('one@example.com');
    const two = span('two@example.com');
    expect(one.firstAt < two.lastAt && two.firstAt < one.lastAt).toBe(true);
    // No lock or temporary file is left behind.
    expect(await fs.readdir(join(dir, 'shared'))).toEqual(['ledger.json']);
  });
});

describe('a process without permission to the ledger file', () => {
  it('reports "permission denied" and starts empty instead of crashing', async () => {
    const sub = join(dir, 'private');
    await fs.mkdir(sub, { mode: 0o755 });
    const file = join(sub, 'ledger.json');
    await fs.writeFile(file, '{"version": 2}');
    await fs.chmod(file, 0o000);
    // Root ignores file modes: run the child as an unprivileged user then.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const r = await run(['load', file], uid);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { problems } = JSON.parse(r.stdout) as { problems: Array<{ kind: string; message: string }> };
    expect(problems).toHaveLength(1);
    expect(problems[0]?.kind).toBe('permission');
    expect(problems[0]?.message).toContain('permission denied');
    expect(problems[0]?.message).toContain('starts empty');
  });
});

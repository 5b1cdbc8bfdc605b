import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import { LedgerDocSchema, UsageLedger } from '../../../src/core/ledger';
import { removeStaleTemps } from '../../../src/store/atomicFile';
import { ledgerFilePath, resolveDataDir } from '../../../src/store/dataDir';
import { withFileLock } from '../../../src/store/fileLock';
import { FileLedgerStore } from '../../../src/store/ledgerFileStore';

const MON = Date.UTC(2026, 0, 5, 10);
const A = 'a@example.com';
const SONNET = 'claude-sonnet-4-6';
const fixtures = join(__dirname, '..', 'ledger', 'fixtures');

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'qp-ledger-store-'));
  file = join(dir, 'ledger.json');
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function ledgerWith(store: FileLedgerStore, clock = new VirtualClock(MON)): Promise<UsageLedger> {
  return UsageLedger.open({ clock, store, config: { saveDelayMs: 0 } });
}

describe('FileLedgerStore', () => {
  it('starts with nothing when there is no file, and round-trips a ledger', async () => {
    const store = new FileLedgerStore(file);
    expect(await store.load()).toEqual({ doc: null, problems: [] });
    const ledger = await ledgerWith(store);
    ledger.record({ account: A, model: SONNET, inputTokens: 10 });
    await ledger.dispose();
    const raw: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    expect(LedgerDocSchema.parse(raw).version).toBe(2);
    const again = await ledgerWith(new FileLedgerStore(file));
    expect(again.usage(A, SONNET).inputTokens).toBe(10);
    expect((await fs.readdir(dir)).sort()).toEqual(['ledger.json']);
  });

  it.each([
    ['ledger-v0.json', 0, 'default', 12],
    ['ledger-v1.json', 1, A, 6],
  ])(
    'migrates %s from disk and writes the current version back',
    async (name, version, account, requests) => {
      await fs.copyFile(join(fixtures, name), file);
      const store = new FileLedgerStore(file);
      const loaded = await store.load();
      expect(loaded.migratedFrom).toBe(version);
      const clock = new VirtualClock(MON);
      const ledger = await ledgerWith(store, clock);
      expect(ledger.usage(account, SONNET).requests).toBe(requests);
      ledger.record({ account, model: SONNET });
      await ledger.dispose();
      const raw = JSON.parse(await fs.readFile(file, 'utf8')) as { version: number };
      expect(raw.version).toBe(2);
      expect((await new FileLedgerStore(file).load()).migratedFrom).toBeUndefined();
    },
  );

  it.each([
    ['not JSON', '{"version": 2, "counters": [tru'],
    ['JSON but not a ledger', '{"version": 2, "counters": "lots"}'],
    ['empty', ''],
  ])('moves a corrupt file (%s) aside, reports it, and starts empty', async (_what, content) => {
    await fs.writeFile(file, content);
    const store = new FileLedgerStore(file, { now: () => Date.UTC(2026, 0, 5, 10, 30) });
    const ledger = await ledgerWith(store);
    expect(ledger.problems).toHaveLength(1);
    const p = ledger.problems[0];
    expect(p?.kind).toBe('corrupt');
    expect(p?.message).toContain('starts empty');
    expect(p?.movedTo).toBe(`${file}.corrupt-2026-01-05T10-30-00-000Z`);
    expect(await fs.readFile(p?.movedTo ?? '', 'utf8')).toBe(content);
    expect(ledger.usage(A, SONNET).requests).toBe(0);
    ledger.record({ account: A, model: SONNET });
    await ledger.dispose();
    expect((await ledgerWith(new FileLedgerStore(file))).usage(A, SONNET).requests).toBe(1);
  });

  it('leaves a file of a newer version untouched and does not overwrite it', async () => {
    const newer = '{"version": 7, "future": true}';
    await fs.writeFile(file, newer);
    const ledger = await ledgerWith(new FileLedgerStore(file));
    expect(ledger.problems.map((p) => p.kind)).toEqual(['unsupported-version']);
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    expect(await fs.readFile(file, 'utf8')).toBe(newer);
    expect(ledger.usage(A, SONNET).requests).toBe(1); // still counted in memory
    await ledger.dispose();
  });

  it('a crash between write and rename leaves the old file whole and loadable', async () => {
    const clock = new VirtualClock(MON);
    const first = await ledgerWith(new FileLedgerStore(file), clock);
    first.record({ account: A, model: SONNET });
    await first.dispose();
    const before = await fs.readFile(file, 'utf8');

    let leftover = '';
    const crashing = new FileLedgerStore(file, {
      writeHooks: {
        beforeRename: async (temp) => {
          // The process dies here: its temporary file stays, the rename never happens.
          leftover = `${temp}-crashed`;
          await fs.copyFile(temp, leftover);
          throw new Error('simulated crash before rename');
        },
      },
    });
    const second = await ledgerWith(crashing, clock);
    second.record({ account: A, model: SONNET });
    await second.flush(); // appended to the journal
    await second.compact(); // folding the journal into the snapshot dies before the rename
    expect(second.problems.at(-1)?.message).toContain('simulated crash before rename');
    expect(await fs.readFile(file, 'utf8')).toBe(before);
    expect((await fs.readdir(dir)).some((n) => n.includes('.tmp-'))).toBe(true);

    // The snapshot is the old one, and the journal still holds the second record.
    const third = await ledgerWith(new FileLedgerStore(file), clock);
    expect(third.problems).toEqual([]);
    expect(third.usage(A, SONNET).requests).toBe(2);
    // Old leftovers are cleaned on load.
    await fs.utimes(leftover, new Date(MON - 2 * 3_600_000), new Date(MON - 2 * 3_600_000));
    expect(await removeStaleTemps(file, 3_600_000)).toBe(1);
  });

  it('reports a permission problem instead of throwing', async () => {
    // A file where the folder should be: every write fails, whoever runs the test (root included).
    await fs.writeFile(join(dir, 'blocked'), 'x');
    const store = new FileLedgerStore(join(dir, 'blocked', 'ledger.json'));
    const ledger = await ledgerWith(store);
    ledger.record({ account: A, model: SONNET });
    await expect(ledger.flush()).resolves.toBeUndefined();
    expect(ledger.problems.at(-1)?.kind).toBe('io');
    expect(ledger.problems.at(-1)?.message).toContain('Cannot write the usage ledger');
  });

  // Root ignores file modes: there, the integration test runs this case in a non-root child process.
  it.skipIf(process.getuid?.() === 0)('says "permission denied" with what to do for EACCES', async () => {
    await fs.writeFile(file, '{}');
    await fs.chmod(file, 0o000);
    const ledger = await ledgerWith(new FileLedgerStore(file));
    expect(ledger.problems[0]?.kind).toBe('permission');
    expect(ledger.problems[0]?.message).toContain('permission denied');
  });
});

describe('withFileLock', () => {
  it('serializes holders within one process', async () => {
    const order: string[] = [];
    const hold = (name: string) =>
      withFileLock(file, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`${name}-`);
      });
    await Promise.all([hold('a'), hold('b'), hold('c')]);
    for (let i = 0; i < order.length; i += 2) expect(order[i]?.[0]).toBe(order[i + 1]?.[0]);
    await expect(fs.access(`${file}.lock`)).rejects.toThrow();
  });

  it('takes over a lock left by a dead process', async () => {
    await fs.writeFile(
      `${file}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), at: Date.now() }),
    );
    await expect(withFileLock(file, async () => 'got it', { timeoutMs: 2000 })).resolves.toBe('got it');
  });

  it('times out on a live holder and the ledger reports "locked"', async () => {
    await fs.writeFile(
      `${file}.lock`,
      JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), at: Date.now() }),
    );
    const ledger = await ledgerWith(new FileLedgerStore(file, { timeoutMs: 100 }));
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    expect(ledger.problems.at(-1)?.kind).toBe('locked');
    await fs.unlink(`${file}.lock`);
    await ledger.flush();
  });
});

describe('data folder', () => {
  it('resolves the option, the environment, then ~/.quota-pilot', () => {
    expect(resolveDataDir('/srv/qp', {})).toBe('/srv/qp');
    expect(resolveDataDir(undefined, { QUOTA_PILOT_DATA_DIR: '/env/qp' })).toBe('/env/qp');
    expect(resolveDataDir(undefined, {})).toMatch(/[/\\]\.quota-pilot$/);
    expect(resolveDataDir('~/x', {})).not.toContain('~');
    expect(ledgerFilePath('/srv/qp')).toBe(join('/srv/qp', 'ledger.json'));
  });
});

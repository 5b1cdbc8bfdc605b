/**
 * The ledger's append-only journal: what a save writes, replay on load, torn lines, compaction
 * (also interrupted by a crash), migration of files without a journal, two stores sharing the files.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import type { AppendResult, LedgerDoc, LedgerOp, LedgerStore, LoadResult } from '../../../src/core/ledger';
import { LedgerDocSchema, UsageLedger } from '../../../src/core/ledger';
import { encodeJournalOps, parseJournalHeader, parseJournalOps } from '../../../src/core/ledger/journal';
import { FileLedgerStore, journalPathFor } from '../../../src/store/ledgerFileStore';

const MON = Date.UTC(2026, 0, 5, 10);
const A = 'a@example.com';
const B = 'b@example.com';
const SONNET = 'claude-sonnet-4-6';
const FLASH = 'gemini-3-flash';
const fixtures = join(__dirname, '..', 'ledger', 'fixtures');

let dir: string;
let file: string;
let journal: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'qp-ledger-journal-'));
  file = join(dir, 'data', 'ledger.json');
  journal = journalPathFor(file);
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function open(store: LedgerStore, clock = new VirtualClock(MON)): Promise<UsageLedger> {
  return UsageLedger.open({ clock, store, config: { saveDelayMs: 0, journalDelayMs: 0 } });
}

async function journalLines(): Promise<string[]> {
  return (await fs.readFile(journal, 'utf8')).split('\n');
}

async function snapshot(): Promise<LedgerDoc> {
  return LedgerDocSchema.parse(JSON.parse(await fs.readFile(file, 'utf8')));
}

const mode = async (path: string): Promise<number> => (await fs.stat(path)).mode & 0o777;

describe('journal format', () => {
  it('round-trips ops and skips lines that are not a change', () => {
    const ops: LedgerOp[] = [
      {
        type: 'record',
        record: {
          account: A,
          model: SONNET,
          inputTokens: 3,
          outputTokens: 4,
          thinkingTokens: 0,
          error: false,
          at: MON,
        },
      },
      { type: 'limits', updatedAt: MON, limits: [{ window: 'daily', requests: 5 }] },
    ];
    const text = encodeJournalOps(ops);
    expect(text.split('\n')).toHaveLength(3);
    expect(parseJournalOps(text).ops).toEqual(ops);
    const bad = parseJournalOps(`${text}{"type":"record","record":{"account":""}}\nnot json\n`);
    expect(bad.ops).toEqual(ops);
    expect(bad.invalidCount).toBe(2);
    expect(parseJournalHeader('{"journal":9,"gen":"x","createdAt":1}')).toMatchObject({
      ok: false,
      newer: true,
    });
  });
});

describe('FileLedgerStore journal', () => {
  it('a save appends one line per change (0600, folder 0700) and a reload replays them', async () => {
    const ledger = await open(new FileLedgerStore(file));
    ledger.record({ account: A, model: SONNET, inputTokens: 10 });
    ledger.record({ account: A, model: SONNET, inputTokens: 5 });
    await ledger.flush();
    await expect(fs.access(file)).rejects.toThrow(); // no snapshot rewrite on a save
    const lines = await journalLines();
    expect(lines).toHaveLength(4); // header, two records, '' after the last newline
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ type: 'record', record: { inputTokens: 10 } });
    expect(await mode(journal)).toBe(0o600);
    expect(await mode(join(dir, 'data'))).toBe(0o700);

    const again = await open(new FileLedgerStore(file));
    expect(again.usage(A, SONNET)).toMatchObject({ requests: 2, inputTokens: 15 });
    expect(again.problems).toEqual([]);
    // Not disposing `ledger` models a crash: the journal alone carries the usage.
  });

  it('ignores and reports a torn last line, and the next append cannot be swallowed by it', async () => {
    const ledger = await open(new FileLedgerStore(file));
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    // A writer died in the middle of its line.
    await fs.appendFile(journal, '{"type":"record","record":{"account":"a@exa');
    const second = await open(new FileLedgerStore(file));
    expect(second.usage(A, SONNET).requests).toBe(1);
    expect(second.problems.map((p) => p.kind)).toEqual(['journal']);
    expect(second.problems[0]?.message).toContain('incomplete line');
    second.record({ account: A, model: SONNET });
    await second.flush();

    const third = await open(new FileLedgerStore(file));
    expect(third.usage(A, SONNET).requests).toBe(2);
    expect(third.problems.map((p) => p.kind)).toEqual(['journal']);
    expect(third.problems[0]?.message).toContain('1 unreadable line');
  });

  it('compacts into the snapshot when the journal grows, then starts a new journal', async () => {
    const ledger = await open(new FileLedgerStore(file, { compactBytes: 600 }));
    for (let i = 0; i < 10; i++) {
      ledger.record({ account: A, model: SONNET, outputTokens: 1 });
      await ledger.flush();
    }
    const doc = await snapshot();
    expect(doc.journal).toBeDefined();
    const daily = doc.counters.find((c) => c.window === 'daily' && c.account === A);
    expect(daily?.requests).toBeGreaterThanOrEqual(3);
    const again = await open(new FileLedgerStore(file));
    expect(again.usage(A, SONNET)).toMatchObject({ requests: 10, outputTokens: 10 });
    await ledger.dispose();
    // Disposing folds the rest in: only the snapshot remains.
    expect(await fs.readdir(join(dir, 'data'))).toEqual(['ledger.json']);
    expect((await snapshot()).counters.find((c) => c.window === 'daily')?.requests).toBe(10);
  });

  it('a crash between writing the snapshot and removing the journal counts nothing twice', async () => {
    const ledger = await open(new FileLedgerStore(file));
    ledger.record({ account: A, model: SONNET });
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    const kept = await fs.readFile(journal);
    await ledger.compact();
    await expect(fs.access(journal)).rejects.toThrow();
    // Put the old journal back, as if the process had died before removing it.
    await fs.writeFile(journal, kept, { mode: 0o600 });
    const again = await open(new FileLedgerStore(file));
    expect(again.usage(A, SONNET).requests).toBe(2);
    again.record({ account: A, model: SONNET });
    await again.flush();
    await again.dispose();
    expect((await open(new FileLedgerStore(file))).usage(A, SONNET).requests).toBe(3);
  });

  it('loads a current ledger.json without a journal as before, then journals on top of it', async () => {
    const first = await open(new FileLedgerStore(file, { journal: false }));
    first.record({ account: A, model: SONNET });
    await first.dispose();
    const old = await snapshot();
    expect(old.journal).toBeUndefined();
    await expect(fs.access(journal)).rejects.toThrow();

    const ledger = await open(new FileLedgerStore(file));
    expect(ledger.usage(A, SONNET).requests).toBe(1);
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    expect(await fs.readFile(file, 'utf8')).toBe(`${JSON.stringify(old)}\n`); // untouched
    expect((await open(new FileLedgerStore(file))).usage(A, SONNET).requests).toBe(2);
  });

  it('migrates a version 1 file and replays the journal on top', async () => {
    await fs.mkdir(join(dir, 'data'));
    await fs.copyFile(join(fixtures, 'ledger-v1.json'), file);
    const ledger = await open(new FileLedgerStore(file));
    expect(ledger.usage(A, SONNET).requests).toBe(6);
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    expect((await open(new FileLedgerStore(file))).usage(A, SONNET).requests).toBe(7);
    await ledger.dispose();
    expect((await snapshot()).version).toBe(2);
    expect((await open(new FileLedgerStore(file))).usage(A, SONNET).requests).toBe(7);
  });

  it("two stores on one file see each other's appends and survive each other's compaction", async () => {
    const one = await open(new FileLedgerStore(file));
    const two = await open(new FileLedgerStore(file));
    one.record({ account: A, model: SONNET });
    await one.flush();
    two.record({ account: B, model: FLASH });
    await two.flush();
    expect(two.usage(A, SONNET).requests).toBe(1); // read back while appending
    await one.flush();
    one.record({ account: A, model: SONNET });
    await one.flush();
    expect(one.usage(B, FLASH).requests).toBe(1);

    await two.compact(); // `one` must notice the journal was folded in and restarted
    one.record({ account: A, model: SONNET });
    await one.flush();
    expect(one.usage(A, SONNET).requests).toBe(3);
    expect(one.usage(B, FLASH).requests).toBe(1);
    await one.dispose();
    await two.dispose();
    const after = await open(new FileLedgerStore(file));
    expect(after.usage(A, SONNET).requests).toBe(3);
    expect(after.usage(B, FLASH).requests).toBe(1);
  });

  it('leaves a journal of a newer format alone and does not write', async () => {
    await fs.mkdir(join(dir, 'data'));
    const future = '{"journal":2,"gen":"x","createdAt":1}\n{"type":"teleport"}\n';
    await fs.writeFile(journal, future);
    const ledger = await open(new FileLedgerStore(file));
    expect(ledger.problems.map((p) => p.kind)).toEqual(['unsupported-version']);
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    await ledger.dispose();
    expect(await fs.readFile(journal, 'utf8')).toBe(future);
    await expect(fs.access(file)).rejects.toThrow();
  });

  it('moves an unreadable journal aside (0600) and starts a new one', async () => {
    await fs.mkdir(join(dir, 'data'));
    await fs.writeFile(journal, 'garbage without a header', { mode: 0o644 });
    const ledger = await open(new FileLedgerStore(file, { now: () => MON }));
    expect(ledger.problems.map((p) => p.kind)).toEqual(['journal']);
    ledger.record({ account: A, model: SONNET });
    await ledger.flush();
    const aside = `${journal}.corrupt-2026-01-05T10-00-00-000Z`;
    expect(await fs.readFile(aside, 'utf8')).toBe('garbage without a header');
    expect(await mode(aside)).toBe(0o600);
    expect((await open(new FileLedgerStore(file))).usage(A, SONNET).requests).toBe(1);
  });

  it('keeps a corrupt snapshot aside readable by its owner only', async () => {
    await fs.mkdir(join(dir, 'data'));
    await fs.writeFile(file, '{"version": 2, "counters": [tru', { mode: 0o644 });
    const ledger = await open(new FileLedgerStore(file));
    const movedTo = ledger.problems[0]?.movedTo ?? '';
    expect(movedTo).toContain('.corrupt-');
    expect(await mode(movedTo)).toBe(0o600);
  });
});

/** A journaling store in memory that records what it was asked to append. */
class RecordingStore implements LedgerStore {
  readonly location = 'memory';
  readonly appended: LedgerOp[][] = [];
  async load(): Promise<LoadResult> {
    return { doc: null, problems: [] };
  }
  async update(): Promise<never> {
    throw new Error('not used');
  }
  async append(ops: readonly LedgerOp[]): Promise<AppendResult> {
    this.appended.push([...ops]);
    return { ok: true, kind: 'delta', ops: [], compactDue: false, problems: [] };
  }
}

describe('the ledger with a journaling store', () => {
  it('appends within journalDelayMs (default 100 ms), not the whole-document debounce', async () => {
    const clock = new VirtualClock(MON);
    const store = new RecordingStore();
    const ledger = await UsageLedger.open({ clock, store });
    ledger.record({ account: A, model: SONNET });
    await clock.advanceAsync(99);
    expect(store.appended).toEqual([]);
    ledger.record({ account: A, model: SONNET });
    await clock.advanceAsync(1);
    expect(store.appended.map((b) => b.length)).toEqual([2]);
  });

  it('appends at once when journalBatch changes are waiting', async () => {
    const clock = new VirtualClock(MON);
    const store = new RecordingStore();
    const ledger = await UsageLedger.open({ clock, store, config: { journalBatch: 3 } });
    for (let i = 0; i < 3; i++) ledger.record({ account: A, model: SONNET });
    await clock.advanceAsync(0);
    expect(store.appended.map((b) => b.length)).toEqual([3]);
  });
});

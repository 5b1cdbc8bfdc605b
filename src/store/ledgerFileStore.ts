/**
 * The usage ledger on disk: a snapshot (`ledger.json`, one versioned JSON document) and an
 * append-only journal (`ledger.journal`, one JSON line per change) in the data folder.
 *
 * Saving — append: every save takes the lock file (`withFileLock`, O_EXCL with stale-lock
 * recovery), appends the new changes to the journal in one write and syncs it (fdatasync), and
 * releases the lock. The ledger saves every ~100 ms, so a hard crash loses at most the changes of
 * that moment. Holding the lock, the appender first reads what other processes appended since it
 * last looked and hands those changes to its ledger: processes sharing the files see each other's
 * usage and never interleave partial lines. A line torn by a crash (no newline) is closed with a
 * newline before the next append, so it can never swallow the next record; readers skip it and
 * report it.
 *
 * Compaction — `update`: under the lock, reads the snapshot and the journal's changes beyond it,
 * lets the ledger merge them, writes the new snapshot atomically (`writeFileAtomic`: temp file,
 * fsync, rename) with a mark saying how far into which journal generation it reaches, then removes
 * the journal. A crash between the two leaves a snapshot whose mark says the journal is already
 * in it, so nothing is counted twice. Without a journal (older files, or `journal: false`),
 * `update` is the old whole-document read-merge-write.
 *
 * Readers take no lock: they read the snapshot, then the journal, and retry if the snapshot was
 * replaced meanwhile.
 *
 * Problems are returned, never thrown: an unreadable snapshot (not JSON, not a ledger) is moved
 * aside as `<name>.corrupt-<timestamp>` (mode 0600, like every file here) and reported; a file
 * from a newer version is left untouched and not overwritten; permission and other I/O errors are
 * reported with what to do.
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  encodeJournalHeader,
  encodeJournalOps,
  parseJournalHeader,
  parseJournalOps,
} from '../core/ledger/journal';
import type { JournalHeader } from '../core/ledger/journal';
import { migrateLedgerDoc } from '../core/ledger/migrations';
import type { JournalMark, LedgerDoc } from '../core/ledger/schema';
import type { LedgerOp } from '../core/ledger/state';
import type {
  AppendResult,
  LedgerStore,
  LoadResult,
  MergeFn,
  StoreProblem,
  UpdateResult,
} from '../core/ledger/store';
import type { AtomicWriteHooks } from './atomicFile';
import { removeStaleTemps, writeFileAtomic } from './atomicFile';
import type { LockOptions } from './fileLock';
import { LockTimeoutError, withFileLock } from './fileLock';

export interface FileLedgerStoreOptions extends LockOptions {
  /** Do not move a corrupt file aside and never write (for readers such as `status`). */
  readOnly?: boolean;
  /** Wall clock for the `.corrupt-<timestamp>` name and the journal's age (tests pin it). */
  now?: () => number;
  /** Test hooks into the atomic write. */
  writeHooks?: AtomicWriteHooks;
  /** Keep an append-only journal (default true). False: every save rewrites the whole snapshot. */
  journal?: boolean;
  /** Ask for compaction once the journal is larger than this (default 1 MiB). */
  compactBytes?: number;
  /** ...or older than this (default 1 hour). */
  compactAgeMs?: number;
}

export const DEFAULT_COMPACT_BYTES = 1024 * 1024;
export const DEFAULT_COMPACT_AGE_MS = 3_600_000;

/** The journal that goes with a snapshot: `ledger.json` → `ledger.journal`. */
export function journalPathFor(snapshotPath: string): string {
  const name = basename(snapshotPath);
  const stem = name.endsWith('.json') ? name.slice(0, -'.json'.length) : name;
  return join(dirname(snapshotPath), `${stem}.journal`);
}

type ReadOutcome =
  | { kind: 'ok'; doc: LedgerDoc; fromVersion: number }
  | { kind: 'missing' }
  | { kind: 'problem'; problem: StoreProblem; blocksWrites: boolean };

/** What a read of the journal found. `end` is the offset just after the last complete line. */
type JournalRead =
  | { kind: 'missing' }
  | { kind: 'bad'; message: string; newer: boolean }
  | {
      kind: 'ok';
      header: JournalHeader;
      /** Offset of the first change line (just after the header). */
      bodyStart: number;
      ops: LedgerOp[];
      end: number;
      size: number;
      problems: StoreProblem[];
    };

/** How far this store has read the journal (its generation and byte offset). */
interface Cursor {
  gen: string;
  offset: number;
}

const NEWLINE = 0x0a;
const HEADER_MAX = 1024;

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function describeIoError(err: unknown, action: string, path: string): StoreProblem {
  const code = errnoCode(err);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return {
      kind: 'permission',
      message: `Cannot ${action} the usage ledger ${path}: permission denied (${code}). Give your user read and write access to the file and its folder, or choose another data folder.`,
    };
  }
  if (err instanceof LockTimeoutError) {
    return {
      kind: 'locked',
      message: `Cannot ${action} the usage ledger ${path}: another process kept it locked too long (${err.holder}). It is retried; delete ${err.lockPath} if no Quota Pilot is running.`,
    };
  }
  const what = err instanceof Error ? err.message : String(err);
  return { kind: 'io', message: `Cannot ${action} the usage ledger ${path}: ${what}` };
}

function timestampForName(t: number): string {
  return new Date(t).toISOString().replace(/[:.]/g, '-');
}

export class FileLedgerStore implements LedgerStore {
  readonly location: string;
  /** Where the journal lives (next to the snapshot). */
  readonly journalPath: string;
  /** Present unless the store is read-only or keeps no journal (see `LedgerStore.append`). */
  readonly append?: (ops: readonly LedgerOp[]) => Promise<AppendResult>;
  private readonly options: FileLedgerStoreOptions;
  /** Set when the file was written by a newer version: we must not overwrite it. */
  private blockedReason: StoreProblem | null = null;
  /** How far the journal has been read into the ledger; null: unknown (re-read everything). */
  private cursor: Cursor | null = null;

  constructor(
    readonly path: string,
    options: FileLedgerStoreOptions = {},
  ) {
    this.location = path;
    this.journalPath = journalPathFor(path);
    this.options = options;
    if (!options.readOnly && options.journal !== false) this.append = (ops) => this.appendOps(ops);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async load(): Promise<LoadResult> {
    // No lock: read the snapshot, then the journal, and retry when the snapshot was replaced in
    // between (a compaction), so that the two always belong together.
    let snap: ReadOutcome = { kind: 'missing' };
    let journal: JournalRead = { kind: 'missing' };
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await statId(this.path);
      snap = await this.read();
      journal = await this.readJournal(snap.kind === 'ok' ? snap.doc.journal : undefined);
      // An unusable snapshot (reported, perhaps moved aside) has nothing to pair with.
      if (snap.kind === 'problem' || (await statId(this.path)) === before) break;
    }
    await removeStaleTemps(this.path, 60 * 60_000).catch(() => 0);
    await removeStaleTemps(this.journalPath, 60 * 60_000).catch(() => 0);
    const problems: StoreProblem[] = [];
    let ops: LedgerOp[] = [];
    this.cursor = null;
    if (journal.kind === 'ok') {
      ops = journal.ops;
      problems.push(...journal.problems);
      this.cursor = { gen: journal.header.gen, offset: journal.end };
    } else if (journal.kind === 'bad') {
      problems.push(this.journalProblem(journal.message, journal.newer));
    }
    if (snap.kind === 'problem') problems.unshift(snap.problem);
    const doc = snap.kind === 'ok' ? snap.doc : null;
    const result: LoadResult = { doc, problems };
    if (snap.kind === 'ok' && snap.fromVersion !== snap.doc.version) result.migratedFrom = snap.fromVersion;
    if (ops.length > 0) result.journal = ops;
    return result;
  }

  async update(merge: MergeFn): Promise<UpdateResult> {
    const blocked = this.writeBlocked();
    if (blocked) return { ok: false, problem: blocked };
    try {
      await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      return await withFileLock(
        this.path,
        async (): Promise<UpdateResult> => {
          const current = await this.read();
          const problems: StoreProblem[] = [];
          if (current.kind === 'problem') {
            if (current.blocksWrites) return { ok: false, problem: current.problem };
            problems.push(current.problem);
          }
          const journal = await this.journalForWrite(current.kind === 'ok' ? current.doc.journal : undefined);
          if (!journal.ok) return { ok: false, problem: journal.problem };
          problems.push(...journal.problems);
          const doc: LedgerDoc = {
            ...merge(current.kind === 'ok' ? current.doc : null, journal.read?.ops ?? []),
          };
          delete doc.journal;
          if (journal.read) doc.journal = { gen: journal.read.header.gen, offset: journal.read.end };
          await writeFileAtomic(this.path, `${JSON.stringify(doc)}\n`, this.options.writeHooks);
          if (journal.read) {
            // The snapshot now holds the whole journal (its mark says so, should we die here).
            await fs.unlink(this.journalPath).catch((err: unknown) => {
              if (errnoCode(err) !== 'ENOENT') throw err;
            });
          }
          // The next append starts a new journal and re-reads the snapshot once.
          this.cursor = null;
          return { ok: true, doc, problems };
        },
        this.options,
      );
    } catch (err) {
      return { ok: false, problem: describeIoError(err, 'write', this.path) };
    }
  }

  private writeBlocked(): StoreProblem | null {
    if (this.options.readOnly) {
      return { kind: 'io', message: `The usage ledger ${this.path} is open read-only.` };
    }
    return this.blockedReason;
  }

  private async appendOps(ops: readonly LedgerOp[]): Promise<AppendResult> {
    const blocked = this.writeBlocked();
    if (blocked) return { ok: false, problem: blocked };
    try {
      await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      return await withFileLock(this.path, () => this.appendLocked(ops), this.options);
    } catch (err) {
      return { ok: false, problem: describeIoError(err, 'write', this.journalPath) };
    }
  }

  /** The append, holding the lock. */
  private async appendLocked(ops: readonly LedgerOp[]): Promise<AppendResult> {
    const problems: StoreProblem[] = [];
    let handle = await openIfExists(this.journalPath);
    let header: JournalHeader | null = null;
    let headerEnd = 0;
    if (handle) {
      const h = await readHeader(handle);
      if (h.ok) {
        header = h.header;
        headerEnd = h.end;
      } else {
        await handle.close();
        handle = null;
        if (h.newer) {
          this.blockedReason = this.journalProblem(h.message, true);
          return { ok: false, problem: this.blockedReason };
        }
        problems.push(await this.moveJournalAside(h.message));
      }
    }
    try {
      if (!handle || !header) {
        header = { journal: 1, gen: newGeneration(), createdAt: this.now() };
        const text = encodeJournalHeader(header);
        await writeFileAtomic(this.journalPath, text);
        headerEnd = Buffer.byteLength(text);
        handle = await openIfExists(this.journalPath);
        if (!handle) throw new Error(`the journal ${this.journalPath} vanished while the lock was held`);
      }
      const size = (await handle.stat()).size;
      let kind: 'delta' | 'reset';
      let doc: LedgerDoc | null = null;
      let foreign: LedgerOp[];
      let end: number;
      if (this.cursor && this.cursor.gen === header.gen && this.cursor.offset <= size) {
        // The common case: read what others appended since we last looked.
        kind = 'delta';
        const from = Math.max(this.cursor.offset, headerEnd);
        const part = await readRange(handle, from, size);
        const lines = this.parseLines(part, from);
        foreign = lines.ops;
        end = lines.end;
        problems.push(...lines.problems);
      } else {
        // First append, or someone compacted since: the durable state is snapshot + journal.
        kind = 'reset';
        const snap = await this.read();
        if (snap.kind === 'problem') {
          if (snap.blocksWrites) return { ok: false, problem: snap.problem };
          problems.push(snap.problem);
        }
        doc = snap.kind === 'ok' ? snap.doc : null;
        const mark = doc?.journal;
        const from = mark && mark.gen === header.gen ? Math.max(mark.offset, headerEnd) : headerEnd;
        const part = await readRange(handle, from, size);
        const lines = this.parseLines(part, from);
        foreign = lines.ops;
        end = lines.end;
        problems.push(...lines.problems);
      }
      // A torn last line (a writer died mid-write): close it so it cannot swallow our first line.
      let text = end < size ? '\n' : '';
      text += encodeJournalOps(ops);
      let newSize = size;
      if (text.length > 0) {
        const buf = Buffer.from(text, 'utf8');
        let written = 0;
        while (written < buf.length) {
          const r = await handle.write(buf, written, buf.length - written);
          written += r.bytesWritten;
        }
        await handle.datasync();
        newSize = size + buf.length;
      }
      this.cursor = { gen: header.gen, offset: newSize };
      const compactDue =
        newSize > headerEnd &&
        (newSize >= (this.options.compactBytes ?? DEFAULT_COMPACT_BYTES) ||
          this.now() - header.createdAt >= (this.options.compactAgeMs ?? DEFAULT_COMPACT_AGE_MS));
      return kind === 'reset'
        ? { ok: true, kind, doc, ops: foreign, compactDue, problems }
        : { ok: true, kind, ops: foreign, compactDue, problems };
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /**
   * The journal as a compaction needs it, holding the lock: its changes beyond `mark` (what the
   * snapshot already holds). A journal of a newer format blocks writing; an unreadable one is
   * moved aside.
   */
  private async journalForWrite(
    mark: JournalMark | undefined,
  ): Promise<
    | { ok: true; read: Extract<JournalRead, { kind: 'ok' }> | null; problems: StoreProblem[] }
    | { ok: false; problem: StoreProblem }
  > {
    const j = await this.readJournal(mark);
    if (j.kind === 'missing') return { ok: true, read: null, problems: [] };
    if (j.kind === 'ok') return { ok: true, read: j, problems: j.problems };
    if (j.newer) {
      this.blockedReason = this.journalProblem(j.message, true);
      return { ok: false, problem: this.blockedReason };
    }
    return { ok: true, read: null, problems: [await this.moveJournalAside(j.message)] };
  }

  /** Reads the whole journal; returns the changes beyond `mark` when it names this generation. */
  private async readJournal(mark: JournalMark | undefined): Promise<JournalRead> {
    let buf: Buffer;
    try {
      buf = await fs.readFile(this.journalPath);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { kind: 'missing' };
      return { kind: 'bad', message: describeIoError(err, 'read', this.journalPath).message, newer: false };
    }
    const nl = buf.indexOf(NEWLINE);
    if (nl < 0 || nl > HEADER_MAX) {
      return { kind: 'bad', message: 'it does not start with a journal header', newer: false };
    }
    const h = parseJournalHeader(buf.toString('utf8', 0, nl));
    if (!h.ok) return { kind: 'bad', message: h.message, newer: h.newer };
    const bodyStart = nl + 1;
    const from = mark && mark.gen === h.header.gen ? Math.max(bodyStart, mark.offset) : bodyStart;
    const lines = this.parseLines(buf.subarray(Math.min(from, buf.length)), from);
    return {
      kind: 'ok',
      header: h.header,
      bodyStart,
      ops: lines.ops,
      end: lines.end,
      size: buf.length,
      problems: lines.problems,
    };
  }

  /** Parses journal bytes that start at offset `from`; `end` is just after the last complete line. */
  private parseLines(part: Buffer, from: number): { ops: LedgerOp[]; end: number; problems: StoreProblem[] } {
    const last = part.lastIndexOf(NEWLINE);
    const complete = last + 1;
    const parsed = parseJournalOps(part.toString('utf8', 0, complete));
    const problems: StoreProblem[] = [];
    if (parsed.invalidCount > 0) {
      problems.push({
        kind: 'journal',
        message: `The usage journal ${this.journalPath} has ${parsed.invalidCount} unreadable line(s) (left by a crash while writing, or edited by hand); they were skipped and the rest was used.`,
      });
    }
    const torn = part.length - complete;
    if (torn > 0) {
      problems.push({
        kind: 'journal',
        message: `The usage journal ${this.journalPath} ends with an incomplete line (${torn} bytes, left by a crash while writing); it was ignored — only the change being written at that moment is lost.`,
      });
    }
    return { ops: parsed.ops, end: from + complete, problems };
  }

  private journalProblem(why: string, newer: boolean): StoreProblem {
    return newer
      ? {
          kind: 'unsupported-version',
          message: `Usage journal ${this.journalPath}: ${why}. Update Quota Pilot — the file is left untouched.`,
        }
      : {
          kind: 'journal',
          message: `The usage journal ${this.journalPath} is unreadable (${why}); it was ignored.`,
        };
  }

  private async moveJournalAside(why: string): Promise<StoreProblem> {
    const movedTo = await keepAside(this.journalPath, this.now());
    return movedTo
      ? {
          kind: 'journal',
          message: `The usage journal ${this.journalPath} was unreadable (${why}); it was kept as ${movedTo} and a new one started.`,
          movedTo,
        }
      : { kind: 'journal', message: `The usage journal ${this.journalPath} is unreadable (${why}).` };
  }

  private async read(): Promise<ReadOutcome> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { kind: 'missing' };
      const problem = describeIoError(err, 'read', this.path);
      // Writing over a file we cannot read would lose it: only writes after a fix.
      return { kind: 'problem', problem, blocksWrites: true };
    }
    let raw: unknown;
    let why: string;
    try {
      raw = JSON.parse(text);
      const m = migrateLedgerDoc(raw);
      if (m.ok) return { kind: 'ok', doc: m.doc, fromVersion: m.fromVersion };
      if (m.kind === 'unsupported-version') {
        this.blockedReason = {
          kind: 'unsupported-version',
          message: `Usage ledger ${this.path}: ${m.message}`,
        };
        return { kind: 'problem', problem: this.blockedReason, blocksWrites: true };
      }
      why = m.message;
    } catch (err) {
      why = `not valid JSON (${err instanceof Error ? err.message : String(err)})`;
    }
    return { kind: 'problem', problem: await this.moveAside(why), blocksWrites: false };
  }

  private async moveAside(why: string): Promise<StoreProblem> {
    if (this.options.readOnly) {
      return { kind: 'corrupt', message: `The usage ledger ${this.path} is unreadable: ${why}.` };
    }
    try {
      const movedTo = await keepAside(this.path, this.now(), true);
      return {
        kind: 'corrupt',
        message: `The usage ledger ${this.path} was unreadable (${why}); it was kept as ${movedTo}.`,
        ...(movedTo ? { movedTo } : {}),
      };
    } catch (err) {
      return {
        kind: 'corrupt',
        message: `The usage ledger ${this.path} is unreadable (${why}) and could not be moved aside: ${err instanceof Error ? err.message : String(err)}.`,
      };
    }
  }
}

/** A fresh journal generation id: unique across processes and restarts. */
function newGeneration(): string {
  return randomUUID();
}

/** Identity of a file's current version (inode, size, mtime), or '' when absent. */
async function statId(path: string): Promise<string> {
  try {
    const st = await fs.stat(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return '';
  }
}

async function openIfExists(path: string): Promise<fs.FileHandle | null> {
  try {
    // Read and append, but never create: a journal is only ever created whole (atomically).
    return await fs.open(path, fsConstants.O_RDWR | fsConstants.O_APPEND);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw err;
  }
}

async function readRange(handle: fs.FileHandle, from: number, to: number): Promise<Buffer> {
  const length = Math.max(0, to - from);
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const r = await handle.read(buf, got, length - got, from + got);
    if (r.bytesRead === 0) break;
    got += r.bytesRead;
  }
  return buf.subarray(0, got);
}

async function readHeader(
  handle: fs.FileHandle,
): Promise<
  { ok: true; header: JournalHeader; end: number } | { ok: false; message: string; newer: boolean }
> {
  const head = await readRange(handle, 0, HEADER_MAX);
  const nl = head.indexOf(NEWLINE);
  if (nl < 0) return { ok: false, message: 'it does not start with a journal header', newer: false };
  const h = parseJournalHeader(head.toString('utf8', 0, nl));
  return h.ok ? { ok: true, header: h.header, end: nl + 1 } : h;
}

/**
 * Moves an unreadable file aside as `<name>.corrupt-<timestamp>`, readable by its owner only.
 * Returns the new name. With `throwOnError`, a failed rename throws; otherwise returns ''.
 */
async function keepAside(path: string, now: number, throwOnError = false): Promise<string> {
  const movedTo = join(dirname(path), `${basename(path)}.corrupt-${timestampForName(now)}`);
  try {
    await fs.rename(path, movedTo);
  } catch (err) {
    if (throwOnError) throw err;
    return '';
  }
  // It may hold usage and account names: keep it as private as the ledger itself.
  await fs.chmod(movedTo, 0o600).catch(() => undefined);
  return movedTo;
}

/**
 * The usage ledger on disk: one versioned JSON file (`ledger.json` in the data folder).
 *
 * Concurrency — lock + read-merge-write: every save takes the lock file (`withFileLock`, O_EXCL with
 * stale-lock recovery), reads the current file, lets the ledger replay its unsaved changes onto it,
 * writes the result atomically (`writeFileAtomic`) and releases the lock. Two processes sharing the
 * file therefore add up their records instead of overwriting each other. Readers take no lock: the
 * atomic rename means they see either the old or the new file, whole.
 *
 * Problems are returned, never thrown: an unreadable file (not JSON, not a ledger) is moved aside as
 * `<name>.corrupt-<timestamp>` and reported; a file from a newer version is left untouched and not
 * overwritten; permission and other I/O errors are reported with what to do.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { migrateLedgerDoc } from '../core/ledger/migrations';
import type { LedgerDoc } from '../core/ledger/schema';
import type { LedgerStore, LoadResult, StoreProblem, UpdateResult } from '../core/ledger/store';
import type { AtomicWriteHooks } from './atomicFile';
import { removeStaleTemps, writeFileAtomic } from './atomicFile';
import type { LockOptions } from './fileLock';
import { LockTimeoutError, withFileLock } from './fileLock';

export interface FileLedgerStoreOptions extends LockOptions {
  /** Do not move a corrupt file aside and never write (for readers such as `status`). */
  readOnly?: boolean;
  /** Wall clock for the `.corrupt-<timestamp>` name (tests pin it). */
  now?: () => number;
  /** Test hooks into the atomic write. */
  writeHooks?: AtomicWriteHooks;
}

type ReadOutcome =
  | { kind: 'ok'; doc: LedgerDoc; fromVersion: number }
  | { kind: 'missing' }
  | { kind: 'problem'; problem: StoreProblem; blocksWrites: boolean };

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
  private readonly options: FileLedgerStoreOptions;
  /** Set when the file was written by a newer version: we must not overwrite it. */
  private blockedReason: StoreProblem | null = null;

  constructor(
    readonly path: string,
    options: FileLedgerStoreOptions = {},
  ) {
    this.location = path;
    this.options = options;
  }

  async load(): Promise<LoadResult> {
    const r = await this.read();
    await removeStaleTemps(this.path, 60 * 60_000).catch(() => 0);
    if (r.kind === 'missing') return { doc: null, problems: [] };
    if (r.kind === 'problem') return { doc: null, problems: [r.problem] };
    return r.fromVersion === r.doc.version
      ? { doc: r.doc, problems: [] }
      : { doc: r.doc, migratedFrom: r.fromVersion, problems: [] };
  }

  async update(merge: (current: LedgerDoc | null) => LedgerDoc): Promise<UpdateResult> {
    if (this.options.readOnly) {
      return {
        ok: false,
        problem: { kind: 'io', message: `The usage ledger ${this.path} is open read-only.` },
      };
    }
    if (this.blockedReason) return { ok: false, problem: this.blockedReason };
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
          const doc = merge(current.kind === 'ok' ? current.doc : null);
          await writeFileAtomic(this.path, `${JSON.stringify(doc)}\n`, this.options.writeHooks);
          return { ok: true, doc, problems };
        },
        this.options,
      );
    } catch (err) {
      return { ok: false, problem: describeIoError(err, 'write', this.path) };
    }
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
    const movedTo = join(
      dirname(this.path),
      `${basename(this.path)}.corrupt-${timestampForName((this.options.now ?? Date.now)())}`,
    );
    try {
      await fs.rename(this.path, movedTo);
      return {
        kind: 'corrupt',
        message: `The usage ledger ${this.path} was unreadable (${why}); it was kept as ${movedTo}.`,
        movedTo,
      };
    } catch (err) {
      return {
        kind: 'corrupt',
        message: `The usage ledger ${this.path} is unreadable (${why}) and could not be moved aside: ${err instanceof Error ? err.message : String(err)}.`,
      };
    }
  }
}

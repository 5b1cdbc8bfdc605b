/**
 * How the ledger talks to persistence, so that core stays free of I/O. A store keeps one
 * versioned document (the snapshot); `update` is a read-merge-write: the store reads the current
 * content (which another process may have changed), hands it to `merge`, and writes the result
 * atomically. A store may also keep an append-only journal (`append`): then an ordinary save
 * appends only the changes, and `update` becomes the compaction that folds the journal into the
 * snapshot. Stores report problems as values and never throw into the ledger.
 */
import type { LedgerDoc } from './schema';
import type { LedgerOp } from './state';

export type StoreProblemKind =
  /** The content was not a ledger document: moved aside, the ledger starts empty. */
  | 'corrupt'
  /** A newer version of Quota Pilot wrote it: left alone, and not overwritten. */
  | 'unsupported-version'
  /** The file or its folder may not be read or written. */
  | 'permission'
  /** Another process held the lock for too long. */
  | 'locked'
  /** Any other read or write failure (disk full, I/O error…). */
  | 'io'
  /** Part of the journal was unreadable (e.g. a line torn by a crash): skipped, the rest is used. */
  | 'journal';

export interface StoreProblem {
  kind: StoreProblemKind;
  /** What happened and what to do, for the log and the UI. Never contains secrets. */
  message: string;
  /** Where a corrupt file was moved. */
  movedTo?: string;
}

export interface LoadResult {
  /** The document, migrated to the current version; null when there is none (or it was unusable). */
  doc: LedgerDoc | null;
  /** Version the content had before migration, when it was migrated. */
  migratedFrom?: number;
  /** Changes in the journal newer than `doc`, to apply on top of it in order (journaling stores). */
  journal?: LedgerOp[];
  problems: StoreProblem[];
}

/** What `append` found and did. */
export type AppendResult =
  | {
      ok: true;
      /**
       * `delta`: `ops` are other processes' changes appended since this store last read, to apply
       * on top of the ledger's state. `reset`: the journal was compacted meanwhile (by another
       * process); the durable state is `doc` plus `ops` — rebuild from them, then re-apply the
       * changes just appended and any newer ones.
       */
      kind: 'delta' | 'reset';
      doc?: LedgerDoc | null;
      ops: LedgerOp[];
      /** The journal is large or old enough: fold it into the snapshot (`update`) soon. */
      compactDue: boolean;
      problems: StoreProblem[];
    }
  | { ok: false; problem: StoreProblem };

/**
 * Folds changes into a snapshot: `current` is the snapshot (null: none yet), `journal` the changes
 * the store's journal holds beyond it (empty without a journal). The result must include both.
 */
export type MergeFn = (current: LedgerDoc | null, journal: readonly LedgerOp[]) => LedgerDoc;

export type UpdateResult =
  { ok: true; doc: LedgerDoc; problems: StoreProblem[] } | { ok: false; problem: StoreProblem };

export interface LedgerStore {
  /** Human name of where the data lives (a file path), for messages. */
  readonly location: string;
  load(): Promise<LoadResult>;
  /**
   * Reads the current document, replaces it with `merge(current, journal)`, and returns what was
   * written. With a journal this is the compaction: the journal's changes go into the snapshot and
   * the journal starts over.
   */
  update(merge: MergeFn): Promise<UpdateResult>;
  /**
   * Durably appends `ops` to the journal (stores without one leave this out and the ledger saves
   * through `update`). Also returns what other processes appended meanwhile.
   */
  append?(ops: readonly LedgerOp[]): Promise<AppendResult>;
}

/**
 * How the ledger talks to persistence, so that core stays free of I/O. A store keeps one
 * versioned document; `update` is a read-merge-write: the store reads the current content (which
 * another process may have changed), hands it to `merge`, and writes the result atomically.
 * Stores report problems as values and never throw into the ledger.
 */
import type { LedgerDoc } from './schema';

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
  | 'io';

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
  problems: StoreProblem[];
}

export type UpdateResult =
  { ok: true; doc: LedgerDoc; problems: StoreProblem[] } | { ok: false; problem: StoreProblem };

export interface LedgerStore {
  /** Human name of where the data lives (a file path), for messages. */
  readonly location: string;
  load(): Promise<LoadResult>;
  /** Reads the current document, replaces it with `merge(current)`, and returns what was written. */
  update(merge: (current: LedgerDoc | null) => LedgerDoc): Promise<UpdateResult>;
}

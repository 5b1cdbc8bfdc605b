/** A `LedgerStore` in memory: for tests, the simulator, and running without a data folder. */
import { LedgerDocSchema } from './schema';
import type { LedgerDoc } from './schema';
import type { LedgerStore, LoadResult, MergeFn, StoreProblem, UpdateResult } from './store';

export class MemoryLedgerStore implements LedgerStore {
  readonly location = 'memory';
  /** Number of successful writes. */
  writes = 0;
  /** When set, the next writes fail with this problem (to test error paths). */
  failWith: StoreProblem | null = null;
  private json: string | null;

  constructor(initial: LedgerDoc | null = null) {
    this.json = initial ? JSON.stringify(initial) : null;
  }

  /** The stored document (a copy), or null. */
  get doc(): LedgerDoc | null {
    return this.json === null ? null : LedgerDocSchema.parse(JSON.parse(this.json));
  }

  async load(): Promise<LoadResult> {
    return { doc: this.doc, problems: [] };
  }

  async update(merge: MergeFn): Promise<UpdateResult> {
    if (this.failWith) return { ok: false, problem: this.failWith };
    const doc = merge(this.doc, []);
    this.json = JSON.stringify(doc);
    this.writes++;
    return { ok: true, doc, problems: [] };
  }
}

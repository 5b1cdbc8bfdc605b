/**
 * Atomic file replacement: the new content goes to a temporary file in the same folder, is written
 * and fsynced, then renamed over the target, and the folder is fsynced so the rename itself is
 * durable. A crash at any point leaves either the old file whole or the new file whole; at worst a
 * stray temporary file remains (`*.tmp-*`), which readers ignore and `removeStaleTemps` cleans.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let seq = 0;

export function tempPathFor(path: string): string {
  seq = (seq + 1) % 1_000_000;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}-${seq}`);
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a folder; the rename is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface AtomicWriteHooks {
  /** Called after the temporary file is written and synced, before the rename (tests simulate a crash here). */
  beforeRename?: (tempPath: string) => Promise<void> | void;
}

/** Replaces `path` with `data` atomically (see the file comment). Throws the underlying error. */
export async function writeFileAtomic(
  path: string,
  data: string,
  hooks: AtomicWriteHooks = {},
): Promise<void> {
  const temp = tempPathFor(path);
  let handle: fs.FileHandle | undefined;
  let renamed = false;
  try {
    handle = await fs.open(temp, 'wx', 0o600);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    await hooks.beforeRename?.(temp);
    await fs.rename(temp, path);
    renamed = true;
    await fsyncDir(dirname(path));
  } finally {
    await handle?.close().catch(() => undefined);
    if (!renamed) await fs.unlink(temp).catch(() => undefined);
  }
}

/** Removes temporary files of `path` left by writers that crashed more than `olderThanMs` ago. */
export async function removeStaleTemps(path: string, olderThanMs: number, now = Date.now()): Promise<number> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.tmp-`;
  let removed = 0;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      const st = await fs.stat(join(dir, name));
      if (now - st.mtimeMs > olderThanMs) {
        await fs.unlink(join(dir, name));
        removed++;
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

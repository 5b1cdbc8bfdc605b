/**
 * A cross-process lock file: `<path>.lock`, created with O_EXCL (`wx`) so only one process can hold
 * it, holding `{pid, host, at}` as JSON. Waiters retry with a short jittered backoff. A lock is stale
 * when its holder is a process of this host that no longer exists, or when it is older than
 * `staleMs` (a holder keeps it for milliseconds; a hung one is overtaken). A stale lock is taken
 * over by renaming it to a unique name first — of several contenders only one rename succeeds —
 * and checking that what it moved is the stale content it judged.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';

export interface LockOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** A lock older than this is stale whoever holds it (default 30 s). */
  staleMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: string,
  ) {
    super(`timed out waiting for the lock ${lockPath} (held by ${holder})`);
    this.name = 'LockTimeoutError';
  }
}

interface LockContent {
  pid: number;
  host: string;
  at: number;
}

function parseLock(text: string): LockContent | null {
  try {
    const v = JSON.parse(text) as Partial<LockContent>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.at === 'number') {
      return { pid: v.pid, host: v.host, at: v.at };
    }
  } catch {
    // A lock being written right now reads empty: not stale by content, judged by age below.
  }
  return null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(content: LockContent | null, mtimeMs: number, staleMs: number, now: number): boolean {
  const at = content?.at ?? mtimeMs;
  if (now - at > staleMs) return true;
  return (
    content !== null &&
    content.host === hostname() &&
    content.pid !== process.pid &&
    !processAlive(content.pid)
  );
}

let takeoverSeq = 0;

async function tryTakeOverStale(lockPath: string, staleMs: number): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, mtimeMs] = await Promise.all([
      fs.readFile(lockPath, 'utf8'),
      fs.stat(lockPath).then((s) => s.mtimeMs),
    ]);
  } catch {
    return false; // released meanwhile: just retry the create
  }
  if (!isStale(parseLock(text), mtimeMs, staleMs, Date.now())) return false;
  const aside = `${lockPath}.stale-${process.pid}-${++takeoverSeq}`;
  try {
    await fs.rename(lockPath, aside);
  } catch {
    return false; // another contender moved it first
  }
  const moved = await fs.readFile(aside, 'utf8').catch(() => '');
  if (moved !== text) {
    // We moved a fresh lock someone created after our read: put it back if the name is still free.
    await fs.link(aside, lockPath).catch(() => undefined);
  }
  await fs.unlink(aside).catch(() => undefined);
  return true;
}

/** Holds the lock of `path` while `fn` runs. Throws `LockTimeoutError`, or the file system's error. */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let content = '';
  for (let attempt = 0; ; attempt++) {
    content = JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() } satisfies LockContent);
    try {
      await fs.writeFile(lockPath, content, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await tryTakeOverStale(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) {
      const holder = await fs.readFile(lockPath, 'utf8').catch(() => 'unknown');
      throw new LockTimeoutError(lockPath, holder);
    }
    const backoff = Math.min(50, 1 + attempt * 2) * (0.5 + Math.random());
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
  try {
    return await fn();
  } finally {
    // Remove it only while it is still ours (a hung holder's lock may have been taken over).
    const now = await fs.readFile(lockPath, 'utf8').catch(() => null);
    if (now === content) await fs.unlink(lockPath).catch(() => undefined);
  }
}

/**
 * One window per machine runs the engine (proxy, refresh loop, ledger writer); the others follow it
 * through its admin API. Leadership is a lock file in the extension's global storage folder:
 * created with O_EXCL, holding the owner's pid, a window id and a heartbeat the leader renews.
 * A lock whose heartbeat is older than `staleMs`, or whose pid is gone, is taken over.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const LockSchema = z.object({
  pid: z.number().int(),
  windowId: z.string().min(1),
  heartbeatAt: z.number(),
  port: z.number().int().nullable(),
});
export type LockInfo = z.infer<typeof LockSchema>;

export interface LeaderLockOptions {
  dir: string;
  staleMs?: number;
  now?: () => number;
  pid?: number;
  isAlive?: (pid: number) => boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LeaderLock {
  readonly windowId = randomUUID();
  private readonly file: string;
  private readonly staleMs: number;
  private readonly now: () => number;
  private readonly pid: number;
  private readonly isAlive: (pid: number) => boolean;
  private held = false;

  constructor(options: LeaderLockOptions) {
    this.file = join(options.dir, 'leader.lock');
    this.staleMs = options.staleMs ?? 15_000;
    this.now = options.now ?? Date.now;
    this.pid = options.pid ?? process.pid;
    this.isAlive = options.isAlive ?? processAlive;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Tries to become the leader; true when this window now holds the lock. */
  async tryAcquire(port: number | null): Promise<boolean> {
    await mkdir(join(this.file, '..'), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.file, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(this.info(port)));
          await handle.sync();
        } finally {
          await handle.close();
        }
        this.held = true;
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = await this.read();
      if (current && current.windowId === this.windowId) return (this.held = true);
      if (current && !this.isStale(current)) return false;
      // Stale or unreadable: move it aside atomically so only one contender removes it.
      const aside = `${this.file}.${this.windowId}.stale`;
      try {
        await rename(this.file, aside);
        await rm(aside, { force: true });
      } catch {
        // Someone else took it over first; loop and look again.
      }
    }
    return false;
  }

  /** Renews the heartbeat; false when the lock was lost (another window took it over). */
  async heartbeat(port: number | null): Promise<boolean> {
    if (!this.held) return false;
    const current = await this.read();
    if (!current || current.windowId !== this.windowId) {
      this.held = false;
      return false;
    }
    const tmp = `${this.file}.${this.windowId}.tmp`;
    await writeFile(tmp, JSON.stringify(this.info(port)), { mode: 0o600 });
    await rename(tmp, this.file);
    return true;
  }

  /** The current leader, if any and alive. */
  async leader(): Promise<LockInfo | undefined> {
    const current = await this.read();
    return current && !this.isStale(current) ? current : undefined;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const current = await this.read();
    if (current?.windowId === this.windowId) await rm(this.file, { force: true });
  }

  private info(port: number | null): LockInfo {
    return { pid: this.pid, windowId: this.windowId, heartbeatAt: this.now(), port };
  }

  private isStale(info: LockInfo): boolean {
    return this.now() - info.heartbeatAt > this.staleMs || !this.isAlive(info.pid);
  }

  private async read(): Promise<LockInfo | undefined> {
    try {
      const parsed = LockSchema.safeParse(JSON.parse(await readFile(this.file, 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}

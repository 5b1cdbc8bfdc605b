import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaderLock } from '../../../src/extension/leaderLock';

let dir: string;
let now = 1_000_000;
const opts = (extra: Partial<ConstructorParameters<typeof LeaderLock>[0]> = {}) => ({
  dir,
  now: () => now,
  isAlive: () => true,
  ...extra,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qp-lock-'));
  now = 1_000_000;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('LeaderLock', () => {
  it('lets exactly one of many windows lead', async () => {
    const locks = Array.from({ length: 10 }, () => new LeaderLock(opts()));
    const won = await Promise.all(locks.map((l) => l.tryAcquire(8383)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const leader = await locks[0]!.leader();
    expect(leader?.port).toBe(8383);
    expect(locks.find((l) => l.isHeld)!.windowId).toBe(leader?.windowId);
  });

  it('hands over when the leader releases', async () => {
    const a = new LeaderLock(opts());
    const b = new LeaderLock(opts());
    expect(await a.tryAcquire(1)).toBe(true);
    expect(await b.tryAcquire(2)).toBe(false);
    await a.release();
    expect(await b.tryAcquire(2)).toBe(true);
  });

  it('takes over a lock whose heartbeat is stale, and the old leader notices', async () => {
    const a = new LeaderLock(opts({ staleMs: 15_000 }));
    const b = new LeaderLock(opts({ staleMs: 15_000 }));
    await a.tryAcquire(1);
    now += 10_000;
    expect(await a.heartbeat(1)).toBe(true);
    now += 14_000;
    expect(await b.tryAcquire(2)).toBe(false);
    now += 2_000;
    expect(await b.tryAcquire(2)).toBe(true);
    expect(await a.heartbeat(1)).toBe(false);
    expect(a.isHeld).toBe(false);
  });

  it('takes over a lock whose process is gone', async () => {
    const dead = new LeaderLock(opts({ pid: 424242 }));
    await dead.tryAcquire(1);
    const b = new LeaderLock(opts({ isAlive: (pid) => pid !== 424242 }));
    expect(await b.tryAcquire(2)).toBe(true);
  });

  it('treats an unreadable lock file as stale', async () => {
    await writeFile(join(dir, 'leader.lock'), 'not json');
    expect(await new LeaderLock(opts()).tryAcquire(1)).toBe(true);
  });
});

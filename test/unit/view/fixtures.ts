/** Builds engine snapshots for view tests, validated against the engine's own schema. */
import type { AccountSnapshot, EngineSnapshot } from '../../../src/core/stateStore';
import { EngineSnapshotSchema } from '../../../src/core/stateStore';
import type { Account, DecisionKind } from '../../../src/core/types';

export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0); // Mon 23 Nov 2026 12:00 UTC
const H = 3_600_000;

export interface PoolSpec {
  models: string[];
  remaining: number | null;
  resetIn?: number | null;
  kind?: DecisionKind;
  cooldownIn?: number;
}

export function account(
  id: string,
  pools: PoolSpec[],
  extra: Partial<Account> & { failing?: boolean; lastSuccessAgo?: number | null } = {},
): AccountSnapshot {
  const { failing = false, lastSuccessAgo = 60_000, ...acct } = extra;
  const a: Account = {
    id,
    email: `${id}@example.com`,
    label: id,
    tier: 'PRO',
    status: { kind: 'active' },
    ...acct,
  };
  const models = pools.flatMap((p) =>
    p.models.map((model) => {
      const resetTime = p.resetIn === null ? null : NOW + (p.resetIn ?? 2 * H);
      const kind: DecisionKind =
        p.kind ??
        (p.remaining === null
          ? 'proceed'
          : p.remaining < 0.05
            ? 'exhausted'
            : p.remaining < 0.1
              ? 'low-quota'
              : 'proceed');
      return {
        model,
        decision: {
          kind,
          accountId: id,
          model,
          remainingFraction: p.remaining,
          resetTime,
          bindingSource: p.remaining === null ? null : ('models' as const),
          reason: `${id} ${model} ${kind}`,
          degraded: failing,
          freshness: p.remaining === null ? ('missing' as const) : ('fresh' as const),
          cooldownUntil: p.cooldownIn === undefined ? null : NOW + p.cooldownIn,
        },
        readings:
          p.remaining === null
            ? []
            : [
                {
                  model,
                  remainingFraction: p.remaining,
                  resetTime,
                  source: 'models' as const,
                  fetchedAt: NOW - 60_000,
                },
              ],
        fetchedAt: p.remaining === null ? null : NOW - 60_000,
      };
    }),
  );
  return {
    account: a,
    models,
    buckets: [],
    cooldowns: [],
    fetch: {
      lastFetchAt: NOW - 60_000,
      lastSuccessAt: lastSuccessAgo === null ? null : NOW - lastSuccessAgo,
      lastError: failing ? { message: 'quota API answered 503', kind: 'transient', at: NOW - 30_000 } : null,
      consecutiveFailures: failing ? 2 : 0,
      failing,
    },
  };
}

export function snapshot(accounts: AccountSnapshot[]): EngineSnapshot {
  return EngineSnapshotSchema.parse({
    schemaVersion: 1,
    revision: 1,
    generatedAt: NOW,
    thresholds: { warn: 0.1, floor: 0.05 },
    accounts,
    cooldowns: [],
    monitor: null,
    cache: { size: 0, maxEntries: 1000, ttlMs: 300_000, hits: 0, misses: 0, evictions: 0 },
    sections: {},
  });
}

export const CLAUDE = ['claude-sonnet-4-6', 'claude-opus-4-6-thinking'];
export const FLASH = ['gemini-3-flash'];
export { H };

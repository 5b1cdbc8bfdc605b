/**
 * The engine's view of Cloud Code: `QuotaProvider` over the client. One quota report combines
 * `fetchAvailableModels` and `retrieveUserQuotaSummary` (either may fail alone); the tier comes from
 * `loadCodeAssist`, onboarding the account when it has no project yet.
 */
import type { Clock } from '../../core/clock';
import { SystemClock } from '../../core/clock';
import { ProviderError, type QuotaProvider } from '../../core/provider';
import type { Account, ModelQuota, QuotaBucket, QuotaReport, TierReport } from '../../core/types';
import type { AvailableModels, CloudCodeClient, CloudCodeLogger, ModelMetadata } from './client';

export interface CloudCodeQuotaProviderOptions {
  clock?: Clock;
  logger?: CloudCodeLogger;
  /** Told about model metadata and the deprecated-id map after each successful fetch. */
  onCatalog?: (accountId: string, models: ModelMetadata[], deprecated: Record<string, string>) => void;
}

export class CloudCodeQuotaProvider implements QuotaProvider {
  private readonly clock: Clock;
  /** Project ids learned through loadCodeAssist / onboardUser, per account. */
  private readonly projects = new Map<string, string>();

  constructor(
    private readonly client: CloudCodeClient,
    private readonly options: CloudCodeQuotaProviderOptions = {},
  ) {
    this.clock = options.clock ?? new SystemClock();
  }

  /** The project the provider knows for an account (from the account, or learned). */
  projectOf(account: Account): string | undefined {
    return account.projectId ?? this.projects.get(account.id);
  }

  async fetchQuotas(account: Account, signal?: AbortSignal): Promise<QuotaReport> {
    const call = { accountId: account.id, ...(signal ? { signal } : {}) };
    let projectId = this.projectOf(account);
    let projectError: unknown;
    if (!projectId) {
      try {
        projectId = (await this.fetchTier(account, signal)).projectId;
      } catch (e) {
        if (e instanceof ProviderError && e.kind === 'aborted') throw e;
        projectError = e;
      }
    }

    const modelsResult = await settle(
      this.client.fetchAvailableModels({ ...call, ...(projectId ? { projectId } : {}) }),
    );
    const known = modelsResult.ok ? modelsResult.value.models.map((m) => m.id) : [];
    const summaryResult = projectId
      ? await settle(this.client.retrieveUserQuotaSummary({ ...call, projectId, knownModels: known }))
      : ({
          ok: false,
          error:
            projectError ??
            new ProviderError(
              'invalid-response',
              'retrieveUserQuotaSummary: the account has no Cloud Code project yet.',
            ),
        } as const);

    for (const r of [modelsResult, summaryResult]) {
      if (!r.ok && r.error instanceof ProviderError && r.error.kind === 'aborted') throw r.error;
    }
    if (!modelsResult.ok && !summaryResult.ok) {
      throw toProviderError(modelsResult.error);
    }
    const models: ModelQuota[] = [];
    const buckets: QuotaBucket[] = [];
    if (modelsResult.ok) {
      models.push(...modelsResult.value.readings);
      this.publishCatalog(account.id, modelsResult.value);
    } else {
      this.options.logger?.warn(
        `quota for ${account.id}: fetchAvailableModels failed: ${errorText(modelsResult.error)}`,
      );
    }
    if (summaryResult.ok) {
      models.push(...summaryResult.value.readings);
      buckets.push(...summaryResult.value.buckets);
    } else {
      this.options.logger?.warn(
        `quota for ${account.id}: retrieveUserQuotaSummary failed: ${errorText(summaryResult.error)}`,
      );
    }
    if (signal?.aborted) throw new ProviderError('aborted', 'fetchQuotas: cancelled by the caller.');
    return { accountId: account.id, fetchedAt: this.clock.now(), models, buckets };
  }

  async fetchTier(account: Account, signal?: AbortSignal): Promise<TierReport> {
    const info = await this.client.ensureProject({ accountId: account.id, ...(signal ? { signal } : {}) });
    if (info.projectId) this.projects.set(account.id, info.projectId);
    const report: TierReport = { tier: info.tier };
    if (info.projectId) report.projectId = info.projectId;
    if (info.status) report.status = info.status;
    return report;
  }

  private publishCatalog(accountId: string, models: AvailableModels): void {
    try {
      this.options.onCatalog?.(accountId, models.models, models.deprecated);
    } catch (e) {
      this.options.logger?.warn(`catalog listener failed: ${errorText(e)}`);
    }
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function toProviderError(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  return new ProviderError('transient', `quota fetch failed: ${errorText(e)}`, { cause: e });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

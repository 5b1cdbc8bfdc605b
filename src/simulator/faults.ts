/**
 * Fault injection: each active fault has a kind, a rate (drawn from the scenario's seeded PRNG), an
 * optional count (once = 1), and optional account / model / time-window filters. The first fault that
 * applies to a request and fires wins.
 */
import type { Random } from './prng';
import { toEpochMs, type FaultKind, type FaultSpec } from './scenario';

export type CloudCodeMethod =
  | 'loadCodeAssist'
  | 'onboardUser'
  | 'getOperation'
  | 'fetchAvailableModels'
  | 'retrieveUserQuotaSummary'
  | 'generateContent'
  | 'streamGenerateContent'
  | 'countTokens';

const GENERATION: readonly CloudCodeMethod[] = ['generateContent', 'streamGenerateContent'];
const QUOTA_METHODS: readonly CloudCodeMethod[] = ['fetchAvailableModels', 'retrieveUserQuotaSummary'];

/** Which methods a fault kind hits. */
export function methodsOf(kind: FaultKind): readonly CloudCodeMethod[] {
  switch (kind) {
    case 'token-expired':
      return [...GENERATION, ...QUOTA_METHODS, 'loadCodeAssist', 'onboardUser', 'countTokens'];
    case 'quota-api-outage':
      return QUOTA_METHODS;
    case 'models-stuck-full':
    case 'models-project-forbidden':
    case 'models-epoch-reset':
      return ['fetchAvailableModels'];
    default:
      return GENERATION;
  }
}

export interface FaultContext {
  method: CloudCodeMethod;
  accountId: string;
  email: string;
  model?: string;
  now: number;
  /** Whether the request body named a project (models-project-forbidden fires only then). */
  hasProject?: boolean;
}

interface ActiveFault {
  spec: FaultSpec;
  left: number;
}

export class FaultInjector {
  private faults: ActiveFault[] = [];
  readonly fired = new Map<FaultKind, number>();

  constructor(
    initial: readonly FaultSpec[],
    private readonly random: Random,
  ) {
    this.set(initial);
  }

  set(specs: readonly FaultSpec[]): void {
    this.faults = specs.map((spec) => ({ spec, left: spec.once ? 1 : (spec.count ?? Infinity) }));
  }

  add(spec: FaultSpec): void {
    this.faults.push({ spec, left: spec.once ? 1 : (spec.count ?? Infinity) });
  }

  list(): FaultSpec[] {
    return this.faults.map((f) => f.spec);
  }

  /** The fault to apply to this request, if any (consumes a count and a PRNG draw when rated). */
  pick(ctx: FaultContext): FaultSpec | undefined {
    for (const f of this.faults) {
      const s = f.spec;
      if (f.left <= 0 || !methodsOf(s.kind).includes(ctx.method)) continue;
      if (
        s.account !== undefined &&
        s.account !== ctx.accountId &&
        s.account.toLowerCase() !== ctx.email.toLowerCase()
      )
        continue;
      if (s.model !== undefined && s.model !== ctx.model) continue;
      if (s.kind === 'models-project-forbidden' && ctx.hasProject !== true) continue;
      if (s.from !== undefined && ctx.now < toEpochMs(s.from)) continue;
      if (s.until !== undefined && ctx.now >= toEpochMs(s.until)) continue;
      const rate = s.rate ?? 1;
      if (rate < 1 && this.random() >= rate) continue;
      f.left -= 1;
      this.fired.set(s.kind, (this.fired.get(s.kind) ?? 0) + 1);
      if (f.left <= 0) this.faults = this.faults.filter((x) => x !== f);
      return s;
    }
    return undefined;
  }
}

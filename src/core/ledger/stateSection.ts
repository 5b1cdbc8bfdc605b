/**
 * Plugs the ledger into the engine's state store as the `usage` section: every snapshot carries
 * today's summary, the thresholds, the limits in force and the ledger's problems; every ledger
 * change (and the daily reset at midnight of the configured zone) tells the store to emit.
 */
import { z } from 'zod';
import type { Clock, TimerHandle } from '../clock';
import type { Disposable, UsageLedger } from './ledger';
import { DailySummarySchema, LimitSchema } from './schema';
import { dayWindow } from './timeWindows';

export const USAGE_SECTION = 'usage';

export const UsageSectionSchema = z.object({
  summary: DailySummarySchema,
  thresholds: z.array(z.number()),
  limits: z.array(LimitSchema),
  problems: z.array(
    z.object({ kind: z.string(), message: z.string(), movedTo: z.string().optional(), at: z.number() }),
  ),
});
export type UsageSection = z.infer<typeof UsageSectionSchema>;

/** What the ledger needs of the state store (structural, so either side can change freely). */
export interface SectionHost {
  registerSection<T>(name: string, build: (now: number) => T, schema?: z.ZodType<T>): Disposable;
  notify(): void;
}

export function usageSection(ledger: UsageLedger): UsageSection {
  return {
    summary: ledger.summary(),
    thresholds: [...ledger.thresholds],
    limits: [...ledger.limits],
    problems: ledger.problems.map((p) => ({ ...p })),
  };
}

/** Registers the `usage` section; dispose to remove it and stop following the ledger. */
export function registerUsageSection(host: SectionHost, ledger: UsageLedger, clock: Clock): Disposable {
  const section = host.registerSection(USAGE_SECTION, () => usageSection(ledger), UsageSectionSchema);
  const sub = ledger.onChange(() => host.notify());
  let timer: TimerHandle | null = null;
  const armMidnight = (): void => {
    const end = dayWindow(clock.now(), ledger.timeZone).end;
    timer = clock.setTimeout(() => {
      host.notify();
      armMidnight();
    }, end - clock.now());
  };
  armMidnight();
  return {
    dispose: () => {
      timer?.cancel();
      sub.dispose();
      section.dispose();
    },
  };
}

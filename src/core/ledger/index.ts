/** The usage ledger: usage per window, limits, threshold alerts, reservations, daily summary. */
export * from './schema';
export * from './ledger';
export * from './store';
export { MemoryLedgerStore } from './memoryStore';
export { migrateLedgerDoc, V0_ACCOUNT } from './migrations';
export type { MigrationResult } from './migrations';
export { alertId, describeAlert } from './alerts';
export { formatSummaryTable, formatDuration, formatCount } from './summaryTable';
export { dayWindow, localDateKey, isValidTimeZone } from './timeWindows';
export type { DayWindow } from './timeWindows';
export { mergeOpsIntoDoc } from './state';
export type { LedgerOp } from './state';
export { registerUsageSection, usageSection, UsageSectionSchema, USAGE_SECTION } from './stateSection';
export type { SectionHost, UsageSection } from './stateSection';

/**
 * The ledger's append-only journal, as text: one JSON line per change (`LedgerOp`) after a header
 * line naming the journal's generation. A save appends what changed instead of rewriting the whole
 * history; a compaction folds the journal into the snapshot (`ledger.json`) and starts a new
 * generation. The file mechanics (locking, appending, syncing, replacing) live in the store; this
 * module only encodes and decodes, so it stays free of I/O.
 *
 * Format (version 1):
 *   {"journal":1,"gen":"<id>","createdAt":<epoch ms>}
 *   {"type":"record","record":{…}}
 *   {"type":"providerFraction","fraction":{…}}
 *   …
 * A line is complete only with its newline: a crash while appending can leave a torn last line,
 * which readers ignore and report.
 */
import { z } from 'zod';
import { AccountIdSchema, EpochMsSchema, QuotaWindowSchema } from '../types';
import { AlertSchema, LimitListSchema, ProviderFractionSchema } from './schema';
import type { LedgerOp } from './state';

export const JOURNAL_FORMAT = 1;

const CountSchema = z.number().int().nonnegative();

export const ResolvedRecordSchema = z.object({
  account: AccountIdSchema,
  model: z.string().min(1),
  inputTokens: CountSchema,
  outputTokens: CountSchema,
  thinkingTokens: CountSchema,
  error: z.boolean(),
  at: EpochMsSchema,
});

/** One journal line: a change to the ledger, exactly as the ledger applies it. */
export const LedgerOpSchema: z.ZodType<LedgerOp> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('record'), record: ResolvedRecordSchema }),
  z.object({
    type: z.literal('providerWindow'),
    account: AccountIdSchema,
    pool: z.string().min(1),
    window: QuotaWindowSchema,
    resetTime: EpochMsSchema,
    at: EpochMsSchema,
  }),
  z.object({ type: z.literal('providerFraction'), fraction: ProviderFractionSchema }),
  z.object({ type: z.literal('alert'), alert: AlertSchema }),
  z.object({ type: z.literal('limits'), updatedAt: EpochMsSchema, limits: LimitListSchema }),
]);

export const JournalHeaderSchema = z.object({
  journal: z.literal(JOURNAL_FORMAT),
  gen: z.string().min(1).max(200),
  createdAt: EpochMsSchema,
});
export type JournalHeader = z.infer<typeof JournalHeaderSchema>;

/** The first line of a new journal, with its newline. */
export function encodeJournalHeader(header: JournalHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** Ops as journal lines, each with its newline. */
export function encodeJournalOps(ops: readonly LedgerOp[]): string {
  let out = '';
  for (const op of ops) out += `${JSON.stringify(op)}\n`;
  return out;
}

export type HeaderParse =
  | { ok: true; header: JournalHeader }
  /** `newer`: written by a newer Quota Pilot (leave it alone); otherwise unreadable. */
  | { ok: false; message: string; newer: boolean };

/** Reads a journal's first line (without its newline). */
export function parseJournalHeader(line: string): HeaderParse {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, message: 'its first line is not JSON', newer: false };
  }
  const format = (raw as { journal?: unknown } | null)?.journal;
  if (typeof format === 'number' && format > JOURNAL_FORMAT) {
    return {
      ok: false,
      message: `it has format ${format}, written by a newer Quota Pilot; this one reads format ${JOURNAL_FORMAT}`,
      newer: true,
    };
  }
  const r = JournalHeaderSchema.safeParse(raw);
  return r.success
    ? { ok: true, header: r.data }
    : { ok: false, message: 'its first line is not a journal header', newer: false };
}

export interface JournalLinesParse {
  ops: LedgerOp[];
  /** Lines that were not a valid change (skipped): 1-based numbers within `text`, at most 20. */
  invalidLines: number[];
  /** How many lines were invalid in all. */
  invalidCount: number;
}

/** Parses complete journal lines (text ending with a newline, or empty). Invalid lines are skipped. */
export function parseJournalOps(text: string): JournalLinesParse {
  const out: JournalLinesParse = { ops: [], invalidLines: [], invalidCount: 0 };
  let start = 0;
  let n = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    let op: LedgerOp | null = null;
    try {
      const r = LedgerOpSchema.safeParse(JSON.parse(line));
      if (r.success) op = r.data;
    } catch {
      // not JSON: counted below
    }
    if (op) out.ops.push(op);
    else {
      out.invalidCount++;
      if (out.invalidLines.length < 20) out.invalidLines.push(n);
    }
  }
  return out;
}

/**
 * Quota Pilot's settings: one zod schema per key, mirroring `contributes.configuration` in
 * package.json (a test keeps the two in step). `parseSettings` never throws: a bad value falls back
 * to its default and yields a problem sentence naming the setting, the value and what to do, which
 * the extension shows once. Secrets are never settings: the OAuth client secret and the local proxy
 * key live in SecretStorage.
 */
import { z } from 'zod';
import { LimitListSchema, ThresholdListSchema } from '../core/ledger/schema';
import type { Limit } from '../core/ledger/schema';
import { ModelMappingSchema } from '../core/modelMapping';
import { DEFAULT_STATUS_FORMAT, validateStatusFormat } from './view/statusBar';

export const DEFAULT_BASE_URLS = [
  'https://daily-cloudcode-pa.googleapis.com',
  'https://cloudcode-pa.googleapis.com',
] as const;

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://');

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Each key with its schema and default. Keys are relative to the `quotaPilot.` section. */
export const SETTINGS = {
  'proxy.enabled': { schema: z.boolean(), default: true },
  'proxy.port': {
    schema: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .refine((p) => p === 0 || p >= 1024, 'must be 0 (any free port) or 1024–65535'),
    default: 8383,
  },
  refreshIntervalSeconds: { schema: z.number().int().min(30).max(3600), default: 300 },
  cacheTtlSeconds: { schema: z.number().int().min(10).max(3600), default: 300 },
  'thresholds.warnPercent': { schema: z.number().min(1).max(99), default: 10 },
  'thresholds.floorPercent': { schema: z.number().min(0).max(98), default: 5 },
  'thresholds.strictFloor': { schema: z.boolean(), default: false },
  'ledger.alertThresholds': { schema: ThresholdListSchema, default: [50, 80, 90] },
  'ledger.timeZone': {
    schema: z
      .string()
      .min(1)
      .refine(validTimeZone, 'is not an IANA time zone such as "UTC" or "Europe/Berlin"'),
    default: 'UTC',
  },
  'ledger.limits': { schema: LimitListSchema, default: [] as Limit[] },
  'statusBar.format': {
    schema: z.string().superRefine((f, ctx) => {
      const problem = validateStatusFormat(f);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    default: DEFAULT_STATUS_FORMAT,
  },
  'upstream.baseUrls': { schema: z.array(httpUrl).min(1).max(10), default: [...DEFAULT_BASE_URLS] },
  'upstream.firstByteTimeoutSeconds': { schema: z.number().int().min(5).max(600), default: 30 },
  'upstream.userAgent': { schema: z.string().min(1).max(200), default: 'antigravity/1.15.8 quota-pilot' },
  'oauth.clientId': { schema: z.string().max(300), default: '' },
  'oauth.callbackPort': { schema: z.number().int().min(0).max(65535), default: 0 },
  modelMapping: { schema: ModelMappingSchema, default: {} as Record<string, string> },
  'demo.enabled': { schema: z.boolean(), default: false },
  'demo.simulatorPort': { schema: z.number().int().min(0).max(65535), default: 0 },
  logLevel: { schema: z.enum(['error', 'warn', 'info', 'debug', 'trace']), default: 'info' as const },
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { [K in SettingKey]: z.infer<(typeof SETTINGS)[K]['schema']> };

export interface SettingsProblem {
  key: `quotaPilot.${SettingKey}`;
  message: string;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Validates raw values (as read from the configuration, keyed without the `quotaPilot.` prefix;
 * undefined = not set) and returns usable settings plus a problem per rejected value.
 */
export function parseSettings(read: (key: SettingKey) => unknown): {
  settings: Settings;
  problems: SettingsProblem[];
} {
  const problems: SettingsProblem[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const spec = SETTINGS[key];
    const raw = read(key);
    if (raw === undefined || raw === null) {
      out[key] = spec.default;
      continue;
    }
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (parsed.success) {
      out[key] = parsed.data;
    } else {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
      problems.push({
        key: `quotaPilot.${key}`,
        message: `quotaPilot.${key} = ${describe(raw)} is invalid${where}: ${issue?.message ?? 'wrong type'}. Using the default ${describe(spec.default)} until it is fixed.`,
      });
      out[key] = spec.default;
    }
  }
  const settings = out as Settings;
  if (settings['thresholds.floorPercent'] >= settings['thresholds.warnPercent']) {
    problems.push({
      key: 'quotaPilot.thresholds.floorPercent',
      message: `quotaPilot.thresholds.floorPercent (${settings['thresholds.floorPercent']}) must be lower than quotaPilot.thresholds.warnPercent (${settings['thresholds.warnPercent']}). Using 10% and 5% until it is fixed.`,
    });
    settings['thresholds.warnPercent'] = SETTINGS['thresholds.warnPercent'].default;
    settings['thresholds.floorPercent'] = SETTINGS['thresholds.floorPercent'].default;
  }
  return { settings, problems };
}

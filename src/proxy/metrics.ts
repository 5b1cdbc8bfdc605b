/**
 * A small Prometheus registry (text exposition format 0.0.4): labelled counters, histograms and
 * gauges read from a callback at scrape time. Enough for `/metrics`, no dependency.
 */

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function keyOf(labels: Labels, names: readonly string[]): string {
  return names.map((n) => labels[n] ?? '').join('\u0000');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels, this.labelNames);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels: pick(labels, this.labelNames), value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels, this.labelNames))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) {
      lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    }
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
    readonly labelNames: readonly string[] = [],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = keyOf(labels, this.labelNames);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: pick(labels, this.labelNames), counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
    }
    s.sum += value;
    s.count += 1;
  }

  count(labels: Labels = {}): number {
    return this.series.get(keyOf(labels, this.labelNames))?.count ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        lines.push(
          `${this.name}_bucket${labelText(s.labels, ['le', formatNumber(b)])} ${s.counts[i] as number}`,
        );
      });
      lines.push(`${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** A gauge whose samples come from a callback at scrape time. */
export class CallbackGauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => ReadonlyArray<{ labels: Labels; value: number }>,
  ) {}

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    let samples: ReadonlyArray<{ labels: Labels; value: number }> = [];
    try {
      samples = this.collect();
    } catch {
      // A failing hook must not break the scrape; the gauge is simply empty this time.
    }
    for (const { labels, value } of samples)
      lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

function pick(labels: Labels, names: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const n of names) out[n] = labels[n] ?? '';
  return out;
}

export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** The exposition text, ending with a newline. */
  render(): string {
    return this.metrics.map((m) => m.render()).join('\n') + '\n';
  }
}

/** Seconds; from 5 ms to 5 minutes (generation can be long). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The proxy's metrics. */
export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.register(
    new Counter('quota_pilot_requests_total', 'Proxy requests by route and HTTP status.', [
      'route',
      'status',
    ]),
  );
  readonly upstream429 = this.registry.register(
    new Counter('quota_pilot_upstream_429_total', 'Upstream 429 answers by upstream origin.', ['origin']),
  );
  readonly upstreamErrors = this.registry.register(
    new Counter('quota_pilot_upstream_errors_total', 'Upstream error answers by origin and status.', [
      'origin',
      'status',
    ]),
  );
  readonly failovers = this.registry.register(
    new Counter('quota_pilot_failovers_total', 'Times a request moved to another account.', ['reason']),
  );
  /** One bucket for every refused model name (names are never labels: they are unbounded). */
  readonly unknownModels = this.registry.register(
    new Counter(
      'quota_pilot_unknown_model_requests_total',
      'Requests refused because no offered model fits the name asked for.',
      [],
    ),
  );
  readonly latency = this.registry.register(
    new Histogram('quota_pilot_request_duration_seconds', 'Total request duration.', LATENCY_BUCKETS, [
      'route',
    ]),
  );
  readonly ttfb = this.registry.register(
    new Histogram(
      'quota_pilot_time_to_first_byte_seconds',
      'Time until the first response byte was written.',
      LATENCY_BUCKETS,
      ['route'],
    ),
  );

  constructor(
    quota?: () => ReadonlyArray<{ accountLabel: string; model: string; remainingFraction: number | null }>,
  ) {
    this.registry.register(
      new CallbackGauge(
        'quota_pilot_quota_remaining_ratio',
        'Remaining quota per account and model (0..1).',
        () =>
          (quota?.() ?? [])
            .filter((g) => g.remainingFraction !== null)
            .map((g) => ({
              labels: { account: g.accountLabel, model: g.model },
              value: g.remainingFraction as number,
            })),
      ),
    );
  }

  render(): string {
    return this.registry.render();
  }
}

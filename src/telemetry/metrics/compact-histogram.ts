/**
 * A Prometheus histogram whose series are recorded without allocation: each label set is a
 * {@link HistogramSeries} made once (bucket counts in a typed array), and `observe` is a bucket
 * search and three additions. prom-client's own `Histogram` validates and hashes the labels on
 * every observation (about 1 µs); a request and each of its SQL statements observe one, so the
 * hot paths use this. The registry formats it as any metric of `type: 'histogram'`: cumulative
 * `_bucket{le}` series, `_sum` and `_count`.
 * https://prometheus.io/docs/concepts/metric_types/#histogram
 */
import type { Metric, Registry } from 'prom-client';

/** One label set's buckets, sum and count. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

interface Sample { labels: Record<string, string | number>; value: number; metricName: string }

/** A histogram of label sets made with {@link series}; see the module comment. */
export class CompactHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all: HistogramSeries[] = [];

  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** A new series for `labels` (the caller keeps it: asking twice for one label set makes two). */
  series(labels: Record<string, string>): HistogramSeries {
    const series = new HistogramSeries(labels, this.bounds);
    this.all.push(series);
    return series;
  }

  /** Zeroes every series (`Registry.resetMetrics()`). */
  reset(): void {
    for (const s of this.all) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** What the registry formats (prom-client's `MetricObjectWithValues`). */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const s of this.all) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i];
        values.push({ labels: { ...s.labels, le: this.bounds[i] }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

// A Prometheus histogram with one label, for values observed once per driver
// update (tens of thousands a second on the event loop). prom-client's
// observe hashes the labels on every call, even on a bound child; here a
// child is a bucket array and observe is a scan and three adds. It is
// registered in a prom-client Registry and exposed in the same text format
// (…_bucket{le}, …_sum, …_count).
import type { Registry } from 'prom-client';

export interface FastHistogramOptions {
  name: string;
  help: string;
  labelName: string;
  /** Upper bounds, ascending (+Inf is added). */
  buckets: readonly number[];
  registers: Registry[];
}

interface Series {
  label: string;
  counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: Float64Array;
  private readonly series = new Map<string, Series>();

  constructor(private readonly o: FastHistogramOptions) {
    if (o.buckets.some((b, i) => i > 0 && b <= o.buckets[i - 1])) throw new RangeError(`${o.name}: buckets must ascend`);
    this.name = o.name;
    this.help = o.help;
    this.bounds = Float64Array.from(o.buckets);
    for (const r of o.registers) r.registerMetric(this as never);
  }

  /** The series of one label value (created once, then reused). */
  labels(value: string): { observe(v: number): void } {
    let s = this.series.get(value);
    if (!s) {
      s = { label: value, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(value, s);
    }
    const b = this.bounds,
      series = s;
    return {
      observe(v: number): void {
        if (!Number.isFinite(v)) return;
        let i = 0;
        while (i < b.length && v > b[i]) i++;
        series.counts[i]++;
        series.sum += v;
        series.count++;
      },
    };
  }

  /** prom-client's metric interface (Registry.metrics() calls this). */
  get(): {
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += s.counts[i];
        values.push({
          labels: { le: i < this.bounds.length ? this.bounds[i] : '+Inf', [this.o.labelName]: s.label },
          value: acc,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { [this.o.labelName]: s.label }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { [this.o.labelName]: s.label }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registry.resetMetrics() calls this. */
  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

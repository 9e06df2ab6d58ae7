// FastHistogram against prom-client's own Histogram: same observations, same
// exposition lines (buckets, sum, count) from the same registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../src/fast-histogram.js';
import { mulberry32 } from '../src/rng.js';

test('FastHistogram exposes what prom-client Histogram exposes for the same observations', async () => {
  const buckets = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500];
  const ra = new Registry(),
    rb = new Registry();
  const fast = new FastHistogram({ name: 'x_meters', help: 'h', labelName: 'map_id', buckets, registers: [ra] });
  const ref = new Histogram({ name: 'x_meters', help: 'h', labelNames: ['map_id'], buckets, registers: [rb] });
  const rnd = mulberry32(7);
  const a1 = fast.labels('a'),
    a2 = fast.labels('b'),
    b1 = ref.labels({ map_id: 'a' }),
    b2 = ref.labels({ map_id: 'b' });
  // Values on bucket bounds too (le is inclusive).
  for (const v of [0, 0.5, 1, 500, 501, ...Array.from({ length: 2000 }, () => rnd() * 700)]) {
    if (rnd() < 0.5) {
      a1.observe(v);
      b1.observe(v);
    } else {
      a2.observe(v);
      b2.observe(v);
    }
  }
  const norm = (t: string) =>
    t
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const [k, v] = l.split(' ');
        return `${k} ${Number(v).toFixed(6)}`; // sums: float addition order may differ in the last bits
      })
      .sort();
  assert.deepEqual(norm(await ra.metrics()), norm(await rb.metrics()));
  assert.match(await ra.metrics(), /# TYPE x_meters histogram/);
  ra.resetMetrics();
  assert.match(await ra.metrics(), /x_meters_count\{map_id="a"\} 0/);
});

test('FastHistogram refuses unsorted buckets and ignores non-finite values', async () => {
  assert.throws(() => new FastHistogram({ name: 'y', help: 'h', labelName: 'l', buckets: [2, 1], registers: [] }), /ascend/);
  const r = new Registry();
  const h = new FastHistogram({ name: 'z', help: 'h', labelName: 'l', buckets: [1], registers: [r] });
  const c = h.labels('q');
  c.observe(Number.NaN);
  c.observe(Number.POSITIVE_INFINITY);
  c.observe(0.5);
  assert.match(await r.metrics(), /z_count\{l="q"\} 1\n/);
});

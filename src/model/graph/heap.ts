// Binary min-heap of (key, value) in typed arrays: no allocation per push.
// An optional tie-break on values orders equal keys (driver IDs in results).
export class MinHeap {
  keys: Float64Array;
  vals: Int32Array;
  size = 0;
  constructor(
    capacity = 1024,
    private readonly tie?: (a: number, b: number) => number,
  ) {
    this.keys = new Float64Array(capacity);
    this.vals = new Int32Array(capacity);
  }
  clear(): void {
    this.size = 0;
  }
  get minKey(): number {
    return this.size > 0 ? this.keys[0] : Infinity;
  }
  get minVal(): number {
    return this.vals[0];
  }

  private less(i: number, j: number): boolean {
    const a = this.keys[i],
      b = this.keys[j];
    if (a !== b || !this.tie) return a < b;
    return this.tie(this.vals[i], this.vals[j]) < 0;
  }
  private swap(i: number, j: number): void {
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
    const v = this.vals[i];
    this.vals[i] = this.vals[j];
    this.vals[j] = v;
  }

  push(key: number, val: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
      const v = new Int32Array(this.size * 2);
      v.set(this.vals);
      this.vals = v;
    }
    let i = this.size++;
    this.keys[i] = key;
    this.vals[i] = val;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Remove the minimum; returns its value. */
  pop(): number {
    const top = this.vals[0];
    const last = --this.size;
    if (last > 0) {
      this.keys[0] = this.keys[last];
      this.vals[0] = this.vals[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < last && this.less(l, m)) m = l;
        if (r < last && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

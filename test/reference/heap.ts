// A plain binary min-heap over (k0, k1, item) in lexicographic key order;
// stale entries are skipped by the caller (lazy deletion).

/** Lexicographic order: first the ranked cost, then the other one. */
export function lexLess(a0: number, a1: number, b0: number, b1: number): boolean {
  return a0 < b0 || (a0 === b0 && a1 < b1);
}

export class MinHeap {
  private k0: number[] = [];
  private k1: number[] = [];
  private it: number[] = [];

  get size(): number {
    return this.it.length;
  }

  push(a: number, b: number, item: number): void {
    this.k0.push(a);
    this.k1.push(b);
    this.it.push(item);
    let i = this.it.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the least entry and returns its item (keys via the caller's arrays), or -1. */
  pop(): number {
    const n = this.it.length;
    if (n === 0) return -1;
    const top = this.it[0]!;
    const a = this.k0.pop()!,
      b = this.k1.pop()!,
      c = this.it.pop()!;
    if (n > 1) {
      this.k0[0] = a;
      this.k1[0] = b;
      this.it[0] = c;
      let i = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < m && this.less(l, s)) s = l;
        if (r < m && this.less(r, s)) s = r;
        if (s === i) break;
        this.swap(i, s);
        i = s;
      }
    }
    return top;
  }

  private less(i: number, j: number): boolean {
    return lexLess(this.k0[i]!, this.k1[i]!, this.k0[j]!, this.k1[j]!);
  }

  private swap(i: number, j: number): void {
    let t = this.k0[i]!;
    this.k0[i] = this.k0[j]!;
    this.k0[j] = t;
    t = this.k1[i]!;
    this.k1[i] = this.k1[j]!;
    this.k1[j] = t;
    t = this.it[i]!;
    this.it[i] = this.it[j]!;
    this.it[j] = t;
  }
}

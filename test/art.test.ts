// The ART against a sorted-Map oracle under seeded random operations
// (FAROS_SEED overrides the seed), persistence of old roots for every kind of
// write, reclamation bounds under churn, and arena limits.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArtArena, ArtCapacityError, type ArtTree, type ArtView, driverKeyBytes, edgeKeyBytes, keyHi, keyLo } from '../src/model/store/art/index.js';
import { SEED, checkTree, dump, k64, rng, split, type Histogram } from './art/helpers.js';

const V = 3; // value words per leaf in these tests

type Oracle = Map<bigint, number[]>;

function sortedEntries(o: Oracle): Array<[bigint, number[]]> {
  return [...o.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function expectSame(view: ArtView, root: number, o: Oracle, what: string): void {
  assert.equal(view.size(root), o.size, `${what}: size`);
  assert.deepEqual(dump(view, root, V), sortedEntries(o), `${what}: ordered contents`);
}

function maxKey(width: number): bigint {
  return ((1n << BigInt(8 * width)) - 1n) << BigInt(8 * (8 - width));
}

/** Key generators: each returns a 64-bit key whose bytes past `width` are 0. */
type Gen = (r: () => number) => bigint;

const GENS: Array<{ name: string; width: number; gen: Gen; n: number }> = [
  // Dense driver numbers: fills Node256s, then shrinks them back.
  { name: 'dense u32', width: 4, n: 3000, gen: (r) => BigInt(Math.floor(r() * 3000)) << 32n },
  // Long shared prefixes: 3 hi values, lo = 0xABCD00xx / 0xABCE0xxx: path compression + splits.
  {
    name: 'shared prefixes',
    width: 8,
    n: 1500,
    gen: (r) => {
      const hi = [0x12345678, 0x12345679, 0xfe000000][Math.floor(r() * 3)];
      const lo = r() < 0.5 ? 0xabcd0000 + Math.floor(r() * 300) : 0xabce0000 + Math.floor(r() * 4096);
      return k64(hi, lo);
    },
  },
  // Edge (u32) ⊕ driver (u32) with few drivers per edge.
  {
    name: 'edge⊕driver',
    width: 8,
    n: 2000,
    gen: (r) => k64(Math.floor(r() * 400) * 7919, Math.floor(r() * 50000)),
  },
  // Random 64-bit keys: sparse, mostly Node4 at the top bytes.
  { name: 'random 64-bit', width: 8, n: 1500, gen: (r) => k64(Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)) },
  // 3-byte keys: widths below 4 bytes.
  { name: '3-byte keys', width: 3, n: 1500, gen: (r) => BigInt(Math.floor(r() * 70000)) << 40n },
];

function randomWords(r: () => number): number[] {
  return [Math.floor(r() * 2 ** 32) | 0, Math.floor(r() * 2 ** 32) | 0, Math.floor(r() * 2 ** 32) | 0];
}

function checkScans(view: ArtView, root: number, o: Oracle, width: number, r: () => number, gen: Gen): void {
  const sorted = sortedEntries(o);
  const keys = sorted.map((e) => e[0]);
  // Range scans with random bounds, both present and absent.
  for (let i = 0; i < 8; i++) {
    let a = r() < 0.5 && keys.length > 0 ? keys[Math.floor(r() * keys.length)] : gen(r);
    let b = r() < 0.5 && keys.length > 0 ? keys[Math.floor(r() * keys.length)] : gen(r);
    if (a > b) [a, b] = [b, a];
    const [aHi, aLo] = split(a);
    const [bHi, bLo] = split(b);
    const got: bigint[] = [];
    const n = view.scanRange(root, aHi, aLo, bHi, bLo, (hi, lo) => {
      got.push(k64(hi, lo));
    });
    assert.deepEqual(
      got,
      keys.filter((k) => k >= a && k <= b),
      `range [${a.toString(16)}, ${b.toString(16)}]`,
    );
    assert.equal(n, got.length);
  }
  // Full range and an early stop.
  const all: bigint[] = [];
  view.scanRange(root, 0, 0, 0xffffffff, 0xffffffff, (hi, lo) => {
    all.push(k64(hi, lo));
  });
  assert.deepEqual(all, keys);
  let seen = 0;
  view.forEach(root, () => ++seen < 5);
  assert.equal(seen, Math.min(5, keys.length), 'forEach stops when the callback returns false');
  // Prefix scans of every length.
  for (let i = 0; i < 8; i++) {
    const len = Math.floor(r() * (width + 1));
    const base = keys.length > 0 && r() < 0.7 ? keys[Math.floor(r() * keys.length)] : gen(r);
    const bytes = new Uint8Array(8);
    const [bh, bl] = split(base);
    new DataView(bytes.buffer).setUint32(0, bh);
    new DataView(bytes.buffer).setUint32(4, bl);
    const shift = BigInt(8 * (8 - len));
    const want = keys.filter((k) => (len === 0 ? true : k >> shift === base >> shift));
    const got: bigint[] = [];
    view.scanPrefix(root, bytes, len, (hi, lo) => {
      got.push(k64(hi, lo));
    });
    assert.deepEqual(got, want, `prefix of ${len} bytes of ${base.toString(16)}`);
  }
  // scanPrefix32 (first 4 bytes) must agree with scanPrefix.
  if (width >= 4) {
    for (let i = 0; i < 8; i++) {
      const base = keys.length > 0 && r() < 0.8 ? keys[Math.floor(r() * keys.length)] : gen(r);
      const hi = Number(base >> 32n);
      const want = sorted.filter(([k]) => Number(k >> 32n) === hi);
      const got: Array<[number, number[]]> = [];
      const n = view.scanPrefix32(root, hi, (lo, v) => {
        got.push([lo, [view.i32[v], view.i32[v + 1], view.i32[v + 2]]]);
      });
      assert.equal(n, want.length);
      assert.deepEqual(
        got,
        want.map(([k, w]) => [Number(k & 0xffffffffn), w]),
        `scanPrefix32 ${hi}`,
      );
      const out = new Int32Array(2 * 64);
      const c = view.collectPrefix32(root, hi, out);
      assert.equal(c, Math.min(64, want.length));
    }
  }
}

function merge(a: Histogram, b: Histogram): void {
  a.leaf += b.leaf;
  a.n4 = Math.max(a.n4, b.n4);
  a.n16 = Math.max(a.n16, b.n16);
  a.n48 = Math.max(a.n48, b.n48);
  a.n256 = Math.max(a.n256, b.n256);
}

for (const g of GENS) {
  test(`ART matches a sorted map under random ops: ${g.name} (seed ${SEED})`, () => {
    const r = rng(SEED ^ (g.name.length * 7919));
    const arena = ArtArena.create({ maxBytes: 64 << 20 });
    const tree = arena.addTree({ keyBytes: g.width, valueWords: V });
    const o: Oracle = new Map();
    const seen: Histogram = { leaf: 0, n4: 0, n16: 0, n48: 0, n256: 0 };
    let shrunk = false;
    // Phases: grow toward n keys, churn, then delete down to a few and check shrinking.
    const phases: Array<[number, number]> = [
      [g.n * 2, 0.8],
      [g.n, 0.5],
      [g.n * 3, 0.1],
    ];
    for (const [ops, pInsert] of phases) {
      let txn = tree.txn();
      const txnOracle = new Map(o);
      for (let i = 0; i < ops; i++) {
        const roll = r();
        const existing = txnOracle.size > 0 && r() < 0.6;
        const key = existing ? [...txnOracle.keys()][Math.floor(r() * txnOracle.size)] : g.gen(r);
        const [hi, lo] = split(key);
        if (roll < pInsert) {
          const w = randomWords(r);
          const v = txn.insert(hi, lo, w);
          assert.deepEqual([arena.i32[v], arena.i32[v + 1], arena.i32[v + 2]], w);
          txnOracle.set(key, w);
        } else {
          assert.equal(txn.delete(hi, lo), txnOracle.has(key), `delete ${key.toString(16)}`);
          txnOracle.delete(key);
        }
        assert.equal(txn.size, txnOracle.size);
        if (r() < 0.02) {
          const v = txn.get(hi, lo);
          assert.equal(v >= 0, txnOracle.has(key), 'txn.get sees the txn');
        }
        // Commit at random batch sizes (1..~100 ops).
        if (r() < 0.03 || i === ops - 1) {
          const root = txn.commit();
          for (const [k, w] of txnOracle) o.set(k, w);
          for (const k of o.keys()) if (!txnOracle.has(k)) o.delete(k);
          assert.equal(root, tree.root);
          merge(seen, checkTree(arena, root));
          if (o.size < 40 && seen.n256 > 0) shrunk = true;
          for (let j = 0; j < 20; j++) {
            const key2 = r() < 0.5 && o.size > 0 ? [...o.keys()][Math.floor(r() * o.size)] : g.gen(r);
            const [h2, l2] = split(key2);
            const v = arena.get(root, h2, l2);
            const want = o.get(key2);
            if (want === undefined) assert.equal(v, -1);
            else assert.deepEqual([arena.i32[v], arena.i32[v + 1], arena.i32[v + 2]], want);
          }
          if (r() < 0.3) {
            expectSame(arena, root, o, g.name);
            checkScans(arena, root, o, g.width, r, g.gen);
          }
          txn = tree.txn();
        }
      }
      txn.abort();
      expectSame(arena, tree.root, o, `${g.name} after phase`);
      checkScans(arena, tree.root, o, g.width, r, g.gen);
    }
    // Delete everything that is left: the tree must go back to empty.
    const txn = tree.txn();
    for (const k of o.keys()) {
      const [hi, lo] = split(k);
      assert.ok(txn.delete(hi, lo));
    }
    txn.commit();
    assert.equal(arena.size(tree.root), 0);
    assert.deepEqual(checkTree(arena, tree.root), { leaf: 0, n4: 0, n16: 0, n48: 0, n256: 0 });
    if (g.name === 'dense u32') {
      assert.ok(seen.n4 > 0 && seen.n16 > 0 && seen.n48 > 0 && seen.n256 > 0, `all node sizes used: ${JSON.stringify(seen)}`);
      assert.ok(shrunk, 'grew to Node256 then shrank below 40 keys');
    }
    if (g.name === 'shared prefixes') assert.ok(seen.n16 > 0 && seen.n48 > 0, JSON.stringify(seen));
    // With no readers, all replaced records are reclaimed: only the empty root set is live.
    assert.equal(arena.stats().retiredPending, 0);
  });
}

test('every node type grows and shrinks through each threshold, and the invariants hold at each step', () => {
  const arena = ArtArena.create({ maxBytes: 1 << 20 });
  const tree = arena.addTree({ keyBytes: 2, valueWords: 1 });
  const types: string[] = [];
  const typeOf = (h: Histogram): string => (h.n256 ? 'N256' : h.n48 ? 'N48' : h.n16 ? 'N16' : h.n4 ? 'N4' : 'leaf');
  for (let b = 0; b < 256; b++) {
    const t = tree.txn();
    t.insert(b << 24, 0, [b]);
    t.commit();
    types.push(typeOf(checkTree(arena, tree.root)));
  }
  assert.equal(types[0], 'leaf');
  assert.equal(types[1], 'N4');
  assert.equal(types[4], 'N16');
  assert.equal(types[16], 'N48');
  assert.equal(types[48], 'N256');
  const down: string[] = [];
  for (let b = 255; b >= 0; b--) {
    const t = tree.txn();
    assert.ok(t.delete(b << 24, 0));
    t.commit();
    down[b] = typeOf(checkTree(arena, tree.root));
    assert.equal(arena.size(tree.root), b);
  }
  // b keys remain after deleting key b: N256 down to 38, N48 to 13, N16 to 4, N4 to 2, then a lone leaf.
  assert.equal(down[38], 'N256');
  assert.equal(down[37], 'N48');
  assert.equal(down[13], 'N48');
  assert.equal(down[12], 'N16');
  assert.equal(down[4], 'N16');
  assert.equal(down[3], 'N4');
  assert.equal(down[2], 'N4');
  assert.equal(down[1], 'leaf');
  assert.equal(down[0], 'leaf');
});

interface Kept {
  root: number;
  contents: Array<[bigint, number[]]>;
  what: string;
}

test('old roots are unchanged after every kind of write', () => {
  const arena = ArtArena.create({ maxBytes: 32 << 20 });
  const tree = arena.addTree({ keyBytes: 8, valueWords: V });
  const pin = arena.reader();
  pin.acquire(); // holds every record retired from now on
  const kept: Kept[] = [];
  const keep = (what: string): void => {
    kept.push({ root: tree.root, contents: dump(arena, tree.root, V), what });
  };
  const write = (what: string, f: (t: ReturnType<ArtTree['txn']>) => void): void => {
    const before = tree.root;
    const t = tree.txn();
    f(t);
    const root = t.commit();
    assert.notEqual(root, before, `${what} yields a new root`);
    keep(what);
    for (const k of kept) assert.deepEqual(dump(arena, k.root, V), k.contents, `root kept after "${k.what}" changed by "${what}"`);
  };
  keep('empty');
  write('insert into empty (root leaf)', (t) => t.insert(1, 1, [1, 1, 1]));
  write('overwrite the root leaf', (t) => t.insert(1, 1, [2, 2, 2]));
  write('split a leaf (lazy expansion)', (t) => t.insert(1, 2, [3, 3, 3]));
  write('split a compressed prefix', (t) => t.insert(0x01000000, 0, [4, 4, 4]));
  write('add to Node4', (t) => t.insert(1, 3, [5, 5, 5]));
  write('grow Node4 -> Node16', (t) => {
    for (let i = 4; i < 10; i++) t.insert(1, i, [i, 0, 0]);
  });
  write('grow Node16 -> Node48', (t) => {
    for (let i = 10; i < 30; i++) t.insert(1, i, [i, 0, 0]);
  });
  write('grow Node48 -> Node256', (t) => {
    for (let i = 30; i < 100; i++) t.insert(1, i, [i, 0, 0]);
  });
  write('insert into Node256', (t) => t.insert(1, 200, [7, 7, 7]));
  write('overwrite a deep leaf', (t) => t.insert(1, 50, [8, 8, 8]));
  write('overwrite in place twice in one txn', (t) => {
    t.insert(1, 51, [9, 9, 9]);
    t.insert(1, 51, [10, 10, 10]);
  });
  write('delete from Node256', (t) => t.delete(1, 200));
  write('shrink Node256 -> Node48', (t) => {
    for (let i = 40; i < 100; i++) t.delete(1, i);
  });
  write('shrink Node48 -> Node16', (t) => {
    for (let i = 12; i < 40; i++) t.delete(1, i);
  });
  write('shrink Node16 -> Node4', (t) => {
    for (let i = 3; i < 12; i++) t.delete(1, i);
  });
  write('collapse Node4 to its child', (t) => t.delete(1, 2));
  write('mixed batch with insert+delete of the same key', (t) => {
    t.insert(9, 9, [1, 2, 3]);
    t.delete(9, 9);
    t.insert(0xffffffff, 0xffffffff, [4, 5, 6]);
    t.delete(1, 1);
  });
  write('delete to empty', (t) => {
    arena.forEach(tree.root, (hi, lo) => {
      t.delete(hi, lo);
    });
  });
  assert.equal(arena.size(tree.root), 0);
  // Random writes too: 40 commits of mixed ops, every earlier root re-checked.
  const r = rng(SEED);
  for (let c = 0; c < 40; c++) {
    write(`random commit ${c}`, (t) => {
      for (let i = 0; i < 30; i++) {
        const hi = Math.floor(r() * 4);
        const lo = Math.floor(r() * 300);
        if (r() < 0.7) t.insert(hi, lo, randomWords(r));
        else t.delete(hi, lo);
      }
      t.insert(7, c, [c, c, c]); // at least one change per commit
    });
  }
  // Nothing could be reclaimed while pinned; after release the next commit frees it.
  assert.ok(arena.stats().retiredPending > 0);
  pin.release();
  const t = tree.txn();
  t.insert(8, 8);
  t.commit();
  assert.equal(arena.stats().retiredPending, 0);
  assert.ok(arena.stats().reusedAllocs > 0 || arena.stats().freeBytes > 0);
  pin.close();
});

test('abort leaves the published tree and frees what the txn built', () => {
  const arena = ArtArena.create({ maxBytes: 1 << 20 });
  const tree = arena.addTree({ keyBytes: 4, valueWords: 2 });
  const t1 = tree.txn();
  for (let i = 0; i < 100; i++) t1.insert(i, 0, [i, i]);
  const root = t1.commit();
  const live = arena.stats().liveBytes;
  const t2 = tree.txn();
  for (let i = 0; i < 100; i++) t2.delete(i, 0);
  for (let i = 1000; i < 1500; i++) t2.insert(i, 0);
  t2.abort();
  assert.equal(tree.root, root);
  assert.equal(arena.size(root), 100);
  assert.equal(arena.stats().liveBytes, live, 'aborted records freed');
  assert.throws(() => t2.insert(1, 0), /committed or aborted/);
  assert.throws(() => {
    tree.txn();
    tree.txn();
  }, /already has an open txn/);
});

test('keys: helpers give numeric order and reject bytes past the width', () => {
  assert.deepEqual([...driverKeyBytes(0x01020304)], [1, 2, 3, 4]);
  assert.deepEqual([...edgeKeyBytes(7, 0x0a0b0c0d)], [0, 0, 0, 7, 10, 11, 12, 13]);
  const ek = edgeKeyBytes(0xdeadbeef, 42);
  assert.equal(keyHi(ek), 0xdeadbeef);
  assert.equal(keyLo(ek), 42);
  const arena = ArtArena.create({ maxBytes: 1 << 20 });
  const drivers = arena.addTree({ keyBytes: 4, valueWords: 1 });
  const t = drivers.txn();
  assert.throws(() => t.insert(1, 1), /beyond the tree's 4-byte width/);
  for (const d of [300, 2, 0xffffffff, 256, 1]) t.insertBytes(driverKeyBytes(d), [d]);
  const root = t.commit();
  const order: number[] = [];
  arena.forEach(root, (hi) => {
    order.push(hi);
  });
  assert.deepEqual(order, [1, 2, 256, 300, 0xffffffff]);
  assert.equal(arena.i32[arena.getBytes(root, driverKeyBytes(300))], 300);
  const three = arena.addTree({ keyBytes: 3, valueWords: 0 });
  assert.throws(() => three.txn().insert(0x000000ff, 0), /3-byte width/);
  assert.equal(maxKey(3), 0xffffff0000000000n);
});

test('a full arena throws RESOURCE_EXHAUSTED and the published tree stays intact', () => {
  const arena = ArtArena.create({ maxBytes: 64 * 1024 });
  const tree = arena.addTree({ keyBytes: 4, valueWords: 4 });
  const t = tree.txn();
  for (let i = 0; i < 100; i++) t.insert(i, 0, [i]);
  const root = t.commit();
  const t2 = tree.txn();
  assert.throws(
    () => {
      for (let i = 100; i < 1e6; i++) t2.insert(i, 0);
    },
    (e: Error) => e instanceof ArtCapacityError && /raise maxBytes/.test(e.message),
  );
  t2.abort();
  assert.equal(arena.size(tree.root), 100);
  assert.equal(tree.root, root);
  assert.equal(arena.i32[arena.get(root, 99, 0)], 99);
  // After the abort there is room again.
  const t3 = tree.txn();
  t3.insert(100, 0, [100]);
  t3.commit();
  assert.equal(arena.size(tree.root), 101);
});

test('two trees commit together: a reader sees both or neither', () => {
  const arena = ArtArena.create({ maxBytes: 1 << 20 });
  const drivers = arena.addTree({ keyBytes: 4, valueWords: 1 });
  const edges = arena.addTree({ keyBytes: 8, valueWords: 1 });
  const reader = arena.reader();
  reader.acquire();
  const d0 = reader.root(0);
  const td = drivers.txn();
  const te = edges.txn();
  td.insert(5, 0, [77]);
  te.insert(77, 5, [1]);
  const [rd, re] = arena.commitAll([td, te]);
  assert.equal(reader.root(0), d0, 'the pinned snapshot does not move');
  assert.equal(arena.size(reader.root(0)), 0);
  reader.release();
  reader.acquire();
  assert.equal(reader.root(0), rd);
  assert.equal(reader.root(1), re);
  assert.equal(reader.trees(), 2);
  reader.close();
});

test('entries() and scanRangeBytes agree with forEach; a dead reader can be evicted', () => {
  const arena = ArtArena.create({ maxBytes: 1 << 20 });
  const edges = arena.addTree({ keyBytes: 8, valueWords: 1 });
  const t = edges.txn();
  for (let e = 0; e < 50; e++) for (let d = 0; d < 3; d++) t.insert(e * 1000, d * 7, [e + d]);
  const root = t.commit();
  const fe: Array<[number, number, number]> = [];
  arena.forEach(root, (hi, lo, v) => {
    fe.push([hi, lo, v]);
  });
  assert.deepEqual(
    [...arena.entries(root)].map((x) => [x.hi, x.lo, x.valueOffset]),
    fe,
  );
  const got: number[] = [];
  arena.scanRangeBytes(root, edgeKeyBytes(3000, 7), edgeKeyBytes(5000, 0), (hi, lo) => {
    got.push(hi, lo);
  });
  assert.deepEqual(got, [3000, 7, 3000, 14, 4000, 0, 4000, 7, 4000, 14, 5000, 0]);
  // A reader that "died" pinned: nothing is reclaimed until the writer evicts its slot.
  const dead = arena.reader();
  dead.acquire();
  const t2 = edges.txn();
  t2.delete(0, 0);
  t2.commit();
  assert.ok(arena.stats().retiredPending > 0);
  assert.equal(arena.stats().pinnedReaders, 1);
  arena.evictReader(dead.slot);
  const t3 = edges.txn();
  t3.delete(0, 7);
  t3.commit();
  assert.equal(arena.stats().retiredPending, 0);
  assert.equal(arena.stats().pinnedReaders, 0);
});

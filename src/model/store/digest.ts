// Anti-entropy digests of one replica (src/node/anti-entropy.ts): driver IDs
// fall into BUCKETS buckets by a hash of the ID; a bucket's digest is the XOR
// of a 64-bit hash of (ID, timestamp) of each stored driver and of (ID) of
// each remembered remove in it. Two replicas with the same drivers at the
// same timestamps and the same removed IDs have equal digests; a bucket that
// differs is pulled whole. Remove times are left out of the hash (each
// replica stamps a forwarded remove with its own clock); they merge by max.

/** A driver's ID and timestamp (what a digest hashes). */
export interface DriverVersion {
  driverId: string;
  timestampMs: number;
}
/** A remembered remove. */
export interface Tombstone {
  driverId: string;
  removedAtMs: number;
}

/** Buckets per map (a power of two). */
export const BUCKETS = 256;

/** FNV-1a over the UTF-16 code units, 32 bits. */
function fnv(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The bucket of a driver ID. */
export function bucketOf(driverId: string): number {
  return mix(fnv(driverId, 0x811c9dc5)) & (BUCKETS - 1);
}

/** Per bucket, two 32-bit XOR accumulators (one 64-bit hash). */
export class Digest {
  readonly words = new Uint32Array(2 * BUCKETS);

  /** A stored driver at its timestamp (ms, a whole number). */
  addRecord(driverId: string, timestampMs: number): void {
    const lo = (timestampMs % 0x100000000) >>> 0,
      hi = Math.floor(timestampMs / 0x100000000) >>> 0;
    const a = fnv(driverId, 0x811c9dc5),
      b = fnv(driverId, 0x9e3779b9);
    const w = this.words,
      k = 2 * (mix(a) & (BUCKETS - 1));
    w[k] ^= mix(a ^ mix(lo ^ 0x5bd1e995) ^ Math.imul(hi, 0x27d4eb2f));
    w[k + 1] ^= mix(b ^ mix(hi ^ 0x68e31da4) ^ Math.imul(lo, 0x165667b1));
  }

  /** A remembered remove of a driver (its time is not hashed). */
  addRemove(driverId: string): void {
    const a = fnv(driverId, 0x811c9dc5),
      b = fnv(driverId, 0x9e3779b9);
    const w = this.words,
      k = 2 * (mix(a) & (BUCKETS - 1));
    w[k] ^= mix(a ^ 0x7f4a7c15);
    w[k + 1] ^= mix(b ^ 0x94d049bb);
  }

  /** Buckets whose digests differ from `other` (the same layout). */
  differing(other: ArrayLike<number>): number[] {
    if (other.length !== this.words.length) throw new Error(`digest of ${other.length} words, expected ${this.words.length}`);
    const out: number[] = [];
    for (let b = 0; b < BUCKETS; b++) {
      if (this.words[2 * b] !== other[2 * b] >>> 0 || this.words[2 * b + 1] !== other[2 * b + 1] >>> 0) out.push(b);
    }
    return out;
  }
}

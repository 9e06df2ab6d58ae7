// Key layouts. A key is at most 8 bytes, compared as unsigned big-endian bytes,
// and travels as two uint32 halves (hi = bytes 0..3, lo = bytes 4..7) so the hot
// path allocates nothing. The two layouts the driver store needs:
//
//   driver tree (4 bytes):  [driverNo u32 BE]             -> hi = driverNo, lo = 0
//   edge tree   (8 bytes):  [edgeId u32 BE][driverNo u32 BE] -> hi = edgeId, lo = driverNo
//
// Big-endian makes byte order equal numeric order, so iteration is by driver
// number and all drivers on one edge are one prefix scan of 4 bytes
// (ArtView.scanPrefix32(root, edgeId, cb)).

/** Key bytes 0..3 of a big-endian byte key (missing bytes are 0). */
export function keyHi(key: Uint8Array): number {
  const n = key.length;
  return (((n > 0 ? key[0] : 0) << 24) | ((n > 1 ? key[1] : 0) << 16) | ((n > 2 ? key[2] : 0) << 8) | (n > 3 ? key[3] : 0)) >>> 0;
}

/** Key bytes 4..7 of a big-endian byte key (missing bytes are 0). */
export function keyLo(key: Uint8Array): number {
  const n = key.length;
  if (n > 8) throw new RangeError(`ART: keys are at most 8 bytes, got ${n}`);
  return (((n > 4 ? key[4] : 0) << 24) | ((n > 5 ? key[5] : 0) << 16) | ((n > 6 ? key[6] : 0) << 8) | (n > 7 ? key[7] : 0)) >>> 0;
}

/** The first `width` bytes of the key (hi, lo). */
function keyBytesOf(hi: number, lo: number, width: number, out: Uint8Array = new Uint8Array(width)): Uint8Array {
  for (let i = 0; i < width; i++) out[i] = i < 4 ? (hi >>> (24 - 8 * i)) & 255 : (lo >>> (56 - 8 * i)) & 255;
  return out;
}

/** 8-byte edge key as bytes (tests, debugging). */
export function edgeKeyBytes(edgeId: number, driverNo: number): Uint8Array {
  return keyBytesOf(edgeId, driverNo, 8);
}

/** 4-byte driver key as bytes. */
export function driverKeyBytes(driverNo: number): Uint8Array {
  return keyBytesOf(driverNo, 0, 4);
}

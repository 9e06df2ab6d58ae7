// Reader thread for the reclamation test: attaches to the writer's arena,
// repeatedly pins a snapshot and checks the writer's invariant on it:
//   meta key (2^32-1, 2^32-1) holds [commitNo, sum of word0 over all other leaves, count];
//   every other leaf holds [v, mix(hi, lo, v)].
// Any torn or reclaimed-while-read snapshot breaks one of them.

import { parentPort, workerData } from 'node:worker_threads';
import { ArtReader } from '../../src/model/store/art/index.js';
import { mix, type ReaderDone, type ReaderStart, CTRL_STOP, CTRL_SNAPSHOTS } from './protocol.js';

const { sab, ctrl: ctrlSab, index } = workerData as ReaderStart;
const ctrl = new Int32Array(ctrlSab);
const reader = ArtReader.attach(sab);
const i32 = reader.i32;

let sum = 0;
let count = 0;
let prevHi = -1;
let prevLo = -1;
let ordered = true;
let bad = 0;
let probeHi = 0;
let probeCount = 0;
const onEntry = (hi: number, lo: number, v: number): void => {
  if (hi === 0xffffffff && lo === 0xffffffff) return;
  if (hi < prevHi || (hi === prevHi && lo <= prevLo)) ordered = false;
  prevHi = hi;
  prevLo = lo;
  const w = i32[v];
  if (i32[v + 1] !== mix(hi, lo, w)) bad++;
  if (hi === probeHi) probeCount++;
  sum = (sum + w) | 0;
  count++;
};
let scanned = 0;
const onPrefix = (): void => {
  scanned++;
};

const done: ReaderDone = { index, snapshots: 0, commitsSeen: 0, errors: [] };
let lastCommit = -1;
let seed = index * 7919 + 1;
while (Atomics.load(ctrl, CTRL_STOP) === 0 && done.errors.length < 5) {
  reader.acquire();
  try {
    const root = reader.root(0);
    const meta = reader.get(root, 0xffffffff, 0xffffffff);
    if (meta < 0) {
      if (reader.size(root) !== 0) done.errors.push('meta key missing from a non-empty snapshot');
      continue;
    }
    const commit = i32[meta];
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    probeHi = (seed >>> 16) % 64;
    for (let pass = 0; pass < 2; pass++) {
      sum = 0;
      count = 0;
      prevHi = -1;
      prevLo = -1;
      ordered = true;
      bad = 0;
      probeCount = 0;
      scanned = 0;
      reader.forEach(root, onEntry);
      reader.scanPrefix32(root, probeHi, onPrefix);
      if (sum !== i32[meta + 1]) done.errors.push(`commit ${commit} pass ${pass}: sum ${sum} != ${i32[meta + 1]}`);
      if (count !== i32[meta + 2] || count + 1 !== reader.size(root)) {
        done.errors.push(`commit ${commit}: count ${count}, meta ${i32[meta + 2]}, size ${reader.size(root)}`);
      }
      if (!ordered) done.errors.push(`commit ${commit}: keys out of order`);
      if (bad !== 0) done.errors.push(`commit ${commit}: ${bad} leaves fail their checksum`);
      if (scanned !== probeCount) done.errors.push(`commit ${commit}: scanPrefix32(${probeHi}) saw ${scanned}, walk ${probeCount}`);
      if (i32[meta] !== commit) done.errors.push(`commit number changed under a pinned snapshot: ${commit} -> ${i32[meta]}`);
    }
    if (commit !== lastCommit) {
      done.commitsSeen++;
      lastCommit = commit;
    }
    done.snapshots++;
    Atomics.add(ctrl, CTRL_SNAPSHOTS + index, 1);
  } catch (e) {
    done.errors.push(`threw: ${(e as Error).message}`);
  } finally {
    reader.release();
  }
}
reader.close();
parentPort?.postMessage(done);

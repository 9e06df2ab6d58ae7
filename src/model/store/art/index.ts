// Persistent (copy-on-write) Adaptive Radix Tree in a SharedArrayBuffer arena.
// Writer: ArtArena.create() -> addTree() -> tree.txn() -> insert/delete -> commit().
// Readers (any thread): ArtReader.attach(arena.sab) -> acquire() -> reads -> release().

export { ArtArena, DEFAULT_MAX_BYTES, DEFAULT_READER_SLOTS } from './arena.js';
export { ArtCapacityError } from './header.js';
export type { ArenaOptions, ArtStats } from './arena.js';
export { ArtTree, ArtTxn } from './tree.js';
export type { TreeOptions } from './tree.js';
export { ArtReader } from './reader.js';
export { ArtView } from './read.js';
export type { ArtEntry, EntryCallback, Prefix32Callback } from './read.js';
export { driverKeyBytes, edgeKeyBytes, keyHi, keyLo } from './keys.js';

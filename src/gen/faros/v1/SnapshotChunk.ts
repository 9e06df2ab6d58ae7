// Original file: proto/faros/v1/peer.proto

import type { DriverRecord as _faros_v1_DriverRecord, DriverRecord__Output as _faros_v1_DriverRecord__Output } from '../../faros/v1/DriverRecord.js';

export interface SnapshotChunk {
  'records'?: (_faros_v1_DriverRecord)[];
}

export interface SnapshotChunk__Output {
  'records': (_faros_v1_DriverRecord__Output)[];
}

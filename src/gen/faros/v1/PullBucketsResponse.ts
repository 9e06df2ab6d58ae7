// Original file: proto/faros/v1/peer.proto

import type { DriverVersion as _faros_v1_DriverVersion, DriverVersion__Output as _faros_v1_DriverVersion__Output } from '../../faros/v1/DriverVersion.js';
import type { Tombstone as _faros_v1_Tombstone, Tombstone__Output as _faros_v1_Tombstone__Output } from '../../faros/v1/Tombstone.js';

export interface PullBucketsResponse {
  'versions'?: (_faros_v1_DriverVersion)[];
  'tombstones'?: (_faros_v1_Tombstone)[];
  /**
   * The requested buckets whose whole contents are in this answer (an answer
   * stops before MAX_PEER_ITEMS; the asker asks again for the rest).
   */
  'complete'?: (number)[];
}

export interface PullBucketsResponse__Output {
  'versions': (_faros_v1_DriverVersion__Output)[];
  'tombstones': (_faros_v1_Tombstone__Output)[];
  /**
   * The requested buckets whose whole contents are in this answer (an answer
   * stops before MAX_PEER_ITEMS; the asker asks again for the rest).
   */
  'complete': (number)[];
}

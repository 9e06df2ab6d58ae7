// Original file: proto/faros/v1/peer.proto

import type { DriverRecord as _faros_v1_DriverRecord, DriverRecord__Output as _faros_v1_DriverRecord__Output } from '../../faros/v1/DriverRecord.js';

export interface PullRecordsResponse {
  /**
   * The stored records of those drivers (absent or expired ones left out).
   */
  'records'?: (_faros_v1_DriverRecord)[];
}

export interface PullRecordsResponse__Output {
  /**
   * The stored records of those drivers (absent or expired ones left out).
   */
  'records': (_faros_v1_DriverRecord__Output)[];
}

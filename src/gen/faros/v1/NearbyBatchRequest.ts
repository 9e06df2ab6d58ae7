// Original file: proto/faros/v1/faros.proto

import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from '../../faros/v1/NearbyRequest.js';

export interface NearbyBatchRequest {
  /**
   * At most --max-nearby-batch (default 1000) queries.
   */
  'queries'?: (_faros_v1_NearbyRequest)[];
}

export interface NearbyBatchRequest__Output {
  /**
   * At most --max-nearby-batch (default 1000) queries.
   */
  'queries': (_faros_v1_NearbyRequest__Output)[];
}

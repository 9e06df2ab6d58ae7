// Original file: proto/faros/v1/faros.proto

import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from '../../faros/v1/NearbyRequest.js';

export interface WatchNearbyRequest {
  'query'?: (_faros_v1_NearbyRequest | null);
  /**
   * default 500, at least 100
   */
  'minIntervalMs'?: (number);
  /**
   * default 50 (metric distance)
   */
  'minChangeM'?: (number | string);
  /**
   * default 10 (metric ETA)
   */
  'minChangeS'?: (number | string);
}

export interface WatchNearbyRequest__Output {
  'query': (_faros_v1_NearbyRequest__Output | null);
  /**
   * default 500, at least 100
   */
  'minIntervalMs': (number);
  /**
   * default 50 (metric distance)
   */
  'minChangeM': (number);
  /**
   * default 10 (metric ETA)
   */
  'minChangeS': (number);
}

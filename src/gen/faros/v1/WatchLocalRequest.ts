// Original file: proto/faros/v1/peer.proto

import type { WatchNearbyRequest as _faros_v1_WatchNearbyRequest, WatchNearbyRequest__Output as _faros_v1_WatchNearbyRequest__Output } from '../../faros/v1/WatchNearbyRequest.js';

export interface WatchLocalRequest {
  'watch'?: (_faros_v1_WatchNearbyRequest | null);
  /**
   * A watch moved from another replica: what the client last got and how
   * long until it may get the next message.
   */
  'resume'?: (boolean);
  'lastIds'?: (string)[];
  'lastCosts'?: (number | string)[];
  'waitMs'?: (number);
}

export interface WatchLocalRequest__Output {
  'watch': (_faros_v1_WatchNearbyRequest__Output | null);
  /**
   * A watch moved from another replica: what the client last got and how
   * long until it may get the next message.
   */
  'resume': (boolean);
  'lastIds': (string)[];
  'lastCosts': (number)[];
  'waitMs': (number);
}

// Original file: proto/faros/v1/peer.proto

import type { MapStatus as _faros_v1_MapStatus, MapStatus__Output as _faros_v1_MapStatus__Output } from '../../faros/v1/MapStatus.js';

export interface StatusResponse {
  'instance'?: (string);
  'maps'?: (_faros_v1_MapStatus)[];
  /**
   * The responder's wall clock (ms since the epoch) when it answered: the
   * prober estimates the clock skew between the two (faros_peer_clock_skew_seconds).
   */
  'clockMs'?: (number | string);
}

export interface StatusResponse__Output {
  'instance': (string);
  'maps': (_faros_v1_MapStatus__Output)[];
  /**
   * The responder's wall clock (ms since the epoch) when it answered: the
   * prober estimates the clock skew between the two (faros_peer_clock_skew_seconds).
   */
  'clockMs': (number);
}

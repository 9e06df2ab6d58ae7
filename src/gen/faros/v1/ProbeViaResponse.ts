// Original file: proto/faros/v1/peer.proto

import type { StatusResponse as _faros_v1_StatusResponse, StatusResponse__Output as _faros_v1_StatusResponse__Output } from '../../faros/v1/StatusResponse.js';

export interface ProbeViaResponse {
  'reachable'?: (boolean);
  /**
   * The target's answer to the probe, when reachable.
   */
  'status'?: (_faros_v1_StatusResponse | null);
  /**
   * Why not, when unreachable.
   */
  'error'?: (string);
}

export interface ProbeViaResponse__Output {
  'reachable': (boolean);
  /**
   * The target's answer to the probe, when reachable.
   */
  'status': (_faros_v1_StatusResponse__Output | null);
  /**
   * Why not, when unreachable.
   */
  'error': (string);
}

// Original file: proto/faros/v1/faros.proto

import type { NearbyResponse as _faros_v1_NearbyResponse, NearbyResponse__Output as _faros_v1_NearbyResponse__Output } from '../../faros/v1/NearbyResponse.js';

export interface NearbyResult {
  /**
   * set when code is empty
   */
  'response'?: (_faros_v1_NearbyResponse | null);
  /**
   * empty = OK, else a gRPC status code name
   */
  'code'?: (string);
  'message'?: (string);
}

export interface NearbyResult__Output {
  /**
   * set when code is empty
   */
  'response': (_faros_v1_NearbyResponse__Output | null);
  /**
   * empty = OK, else a gRPC status code name
   */
  'code': (string);
  'message': (string);
}

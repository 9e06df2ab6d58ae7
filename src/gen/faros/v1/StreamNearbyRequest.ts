// Original file: proto/faros/v1/faros.proto

import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from '../../faros/v1/NearbyRequest.js';

export interface StreamNearbyRequest {
  'tag'?: (string);
  'query'?: (_faros_v1_NearbyRequest | null);
}

export interface StreamNearbyRequest__Output {
  'tag': (string);
  'query': (_faros_v1_NearbyRequest__Output | null);
}

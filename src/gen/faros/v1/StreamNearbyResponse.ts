// Original file: proto/faros/v1/faros.proto

import type { NearbyResult as _faros_v1_NearbyResult, NearbyResult__Output as _faros_v1_NearbyResult__Output } from '../../faros/v1/NearbyResult.js';

export interface StreamNearbyResponse {
  'tag'?: (string);
  'result'?: (_faros_v1_NearbyResult | null);
}

export interface StreamNearbyResponse__Output {
  'tag': (string);
  'result': (_faros_v1_NearbyResult__Output | null);
}

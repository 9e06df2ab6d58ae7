// Original file: proto/faros/v1/faros.proto

import type { NearbyResult as _faros_v1_NearbyResult, NearbyResult__Output as _faros_v1_NearbyResult__Output } from '../../faros/v1/NearbyResult.js';

export interface NearbyBatchResponse {
  'results'?: (_faros_v1_NearbyResult)[];
}

export interface NearbyBatchResponse__Output {
  'results': (_faros_v1_NearbyResult__Output)[];
}

// Original file: proto/faros/v1/peer.proto

import type { UpdateOutcome as _faros_v1_UpdateOutcome, UpdateOutcome__Output as _faros_v1_UpdateOutcome__Output } from '../../faros/v1/UpdateOutcome.js';

export interface ApplyUpdatesResponse {
  'outcomes'?: (_faros_v1_UpdateOutcome)[];
}

export interface ApplyUpdatesResponse__Output {
  'outcomes': (_faros_v1_UpdateOutcome__Output)[];
}

// Original file: proto/faros/v1/faros.proto

import type { UpdateError as _faros_v1_UpdateError, UpdateError__Output as _faros_v1_UpdateError__Output } from '../../faros/v1/UpdateError.js';

export interface UpdateDriversResponse {
  'accepted'?: (number);
  'rejected'?: (_faros_v1_UpdateError)[];
}

export interface UpdateDriversResponse__Output {
  'accepted': (number);
  'rejected': (_faros_v1_UpdateError__Output)[];
}

// Original file: proto/faros/v1/faros.proto

import type { Driver as _faros_v1_Driver, Driver__Output as _faros_v1_Driver__Output } from '../../faros/v1/Driver.js';

export interface GetDriverResponse {
  'driver'?: (_faros_v1_Driver | null);
}

export interface GetDriverResponse__Output {
  'driver': (_faros_v1_Driver__Output | null);
}

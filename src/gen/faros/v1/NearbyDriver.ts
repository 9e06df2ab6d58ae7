// Original file: proto/faros/v1/faros.proto

import type { Driver as _faros_v1_Driver, Driver__Output as _faros_v1_Driver__Output } from '../../faros/v1/Driver.js';

export interface NearbyDriver {
  'driver'?: (_faros_v1_Driver | null);
  'distanceM'?: (number | string);
  'etaS'?: (number | string);
}

export interface NearbyDriver__Output {
  'driver': (_faros_v1_Driver__Output | null);
  'distanceM': (number);
  'etaS': (number);
}

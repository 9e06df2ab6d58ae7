// Original file: proto/faros/v1/faros.proto

import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from '../../faros/v1/LatLng.js';

export interface Bounds {
  'min'?: (_faros_v1_LatLng | null);
  'max'?: (_faros_v1_LatLng | null);
}

export interface Bounds__Output {
  'min': (_faros_v1_LatLng__Output | null);
  'max': (_faros_v1_LatLng__Output | null);
}

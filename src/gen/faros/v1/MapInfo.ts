// Original file: proto/faros/v1/faros.proto

import type { Bounds as _faros_v1_Bounds, Bounds__Output as _faros_v1_Bounds__Output } from '../../faros/v1/Bounds.js';
import type { Long } from '@grpc/proto-loader';

export interface MapInfo {
  'mapId'?: (string);
  'profile'?: (string);
  'drivers'?: (number | string | Long);
  'bounds'?: (_faros_v1_Bounds | null);
  /**
   * Instances holding a replica of this map.
   */
  'replicas'?: (string)[];
}

export interface MapInfo__Output {
  'mapId': (string);
  'profile': (string);
  'drivers': (string);
  'bounds': (_faros_v1_Bounds__Output | null);
  /**
   * Instances holding a replica of this map.
   */
  'replicas': (string)[];
}

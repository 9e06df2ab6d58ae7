// Original file: proto/faros/v1/faros.proto

import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from '../../faros/v1/LatLng.js';
import type { Long } from '@grpc/proto-loader';

export interface SnappedPoint {
  'location'?: (_faros_v1_LatLng | null);
  'snapDistanceM'?: (number | string);
  /**
   * OSM way ID of the road the point snapped onto.
   */
  'wayId'?: (number | string | Long);
}

export interface SnappedPoint__Output {
  'location': (_faros_v1_LatLng__Output | null);
  'snapDistanceM': (number);
  /**
   * OSM way ID of the road the point snapped onto.
   */
  'wayId': (string);
}

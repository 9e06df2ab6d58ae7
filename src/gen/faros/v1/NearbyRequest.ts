// Original file: proto/faros/v1/faros.proto

import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from '../../faros/v1/LatLng.js';
import type { Metric as _faros_v1_Metric, Metric__Output as _faros_v1_Metric__Output } from '../../faros/v1/Metric.js';

export interface NearbyRequest {
  'mapId'?: (string);
  'location'?: (_faros_v1_LatLng | null);
  /**
   * 1..1000, default 10.
   */
  'k'?: (number);
  'metric'?: (_faros_v1_Metric);
  /**
   * Limit for metric distance: (0, 100000], default 3000.
   */
  'maxDistanceM'?: (number | string);
  /**
   * Limit for metric ETA: (0, 7200], default 300.
   */
  'maxEtaS'?: (number | string);
  /**
   * Every pair must equal the driver's metadata.
   */
  'filter'?: ({[key: string]: string});
}

export interface NearbyRequest__Output {
  'mapId': (string);
  'location': (_faros_v1_LatLng__Output | null);
  /**
   * 1..1000, default 10.
   */
  'k': (number);
  'metric': (_faros_v1_Metric__Output);
  /**
   * Limit for metric distance: (0, 100000], default 3000.
   */
  'maxDistanceM': (number);
  /**
   * Limit for metric ETA: (0, 7200], default 300.
   */
  'maxEtaS': (number);
  /**
   * Every pair must equal the driver's metadata.
   */
  'filter': ({[key: string]: string});
}

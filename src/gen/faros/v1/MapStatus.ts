// Original file: proto/faros/v1/peer.proto

import type { Bounds as _faros_v1_Bounds, Bounds__Output as _faros_v1_Bounds__Output } from '../../faros/v1/Bounds.js';
import type { Long } from '@grpc/proto-loader';

export interface MapStatus {
  'mapId'?: (string);
  /**
   * LOADING, TRANSFERRING, SERVING, DRAINING
   */
  'state'?: (string);
  'drivers'?: (number | string | Long);
  /**
   * The map's road bounds (once loaded), so instances without a copy can list it.
   */
  'bounds'?: (_faros_v1_Bounds | null);
}

export interface MapStatus__Output {
  'mapId': (string);
  /**
   * LOADING, TRANSFERRING, SERVING, DRAINING
   */
  'state': (string);
  'drivers': (string);
  /**
   * The map's road bounds (once loaded), so instances without a copy can list it.
   */
  'bounds': (_faros_v1_Bounds__Output | null);
}

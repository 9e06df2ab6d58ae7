// Original file: proto/faros/v1/faros.proto

import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from '../../faros/v1/LatLng.js';
import type { WriteAck as _faros_v1_WriteAck, WriteAck__Output as _faros_v1_WriteAck__Output } from '../../faros/v1/WriteAck.js';
import type { Long } from '@grpc/proto-loader';

export interface UpdateDriverRequest {
  'mapId'?: (string);
  'driverId'?: (string);
  'location'?: (_faros_v1_LatLng | null);
  /**
   * Client time in ms since the epoch; 0 = server time. Newest wins.
   */
  'timestampMs'?: (number | string | Long);
  'metadata'?: ({[key: string]: string});
  /**
   * When the update is acknowledged (UNSPECIFIED = the server's --write-ack).
   */
  'ack'?: (_faros_v1_WriteAck);
}

export interface UpdateDriverRequest__Output {
  'mapId': (string);
  'driverId': (string);
  'location': (_faros_v1_LatLng__Output | null);
  /**
   * Client time in ms since the epoch; 0 = server time. Newest wins.
   */
  'timestampMs': (string);
  'metadata': ({[key: string]: string});
  /**
   * When the update is acknowledged (UNSPECIFIED = the server's --write-ack).
   */
  'ack': (_faros_v1_WriteAck__Output);
}

// Original file: proto/faros/v1/peer.proto


export interface PullRecordsRequest {
  'mapId'?: (string);
  'driverIds'?: (string)[];
  /**
   * Drivers older than the map's TTL at this instant are left out.
   */
  'nowMs'?: (number | string);
}

export interface PullRecordsRequest__Output {
  'mapId': (string);
  'driverIds': (string)[];
  /**
   * Drivers older than the map's TTL at this instant are left out.
   */
  'nowMs': (number);
}

// Original file: proto/faros/v1/peer.proto


export interface DigestRequest {
  'mapId'?: (string);
  /**
   * The asker's clock: both sides leave out drivers older than the map's TTL
   * and removes older than the tombstone window at this same instant.
   */
  'nowMs'?: (number | string);
}

export interface DigestRequest__Output {
  'mapId': (string);
  /**
   * The asker's clock: both sides leave out drivers older than the map's TTL
   * and removes older than the tombstone window at this same instant.
   */
  'nowMs': (number);
}

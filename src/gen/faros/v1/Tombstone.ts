// Original file: proto/faros/v1/peer.proto


export interface Tombstone {
  'driverId'?: (string);
  'removedAtMs'?: (number | string);
}

export interface Tombstone__Output {
  'driverId': (string);
  'removedAtMs': (number);
}

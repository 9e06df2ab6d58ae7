// Original file: proto/faros/v1/peer.proto


export interface RemoveDriversResponse {
  'removed'?: (number);
}

export interface RemoveDriversResponse__Output {
  'removed': (number);
}

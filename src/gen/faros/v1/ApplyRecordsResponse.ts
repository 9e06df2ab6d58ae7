// Original file: proto/faros/v1/peer.proto


export interface ApplyRecordsResponse {
  'applied'?: (number);
}

export interface ApplyRecordsResponse__Output {
  'applied': (number);
}

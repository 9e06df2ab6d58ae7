// Original file: proto/faros/v1/faros.proto


export interface RemoveDriverResponse {
  'removed'?: (boolean);
}

export interface RemoveDriverResponse__Output {
  'removed': (boolean);
}

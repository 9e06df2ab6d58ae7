// Original file: proto/faros/v1/faros.proto


export interface RemoveDriverRequest {
  'mapId'?: (string);
  'driverId'?: (string);
}

export interface RemoveDriverRequest__Output {
  'mapId': (string);
  'driverId': (string);
}

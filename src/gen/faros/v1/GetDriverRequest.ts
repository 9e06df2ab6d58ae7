// Original file: proto/faros/v1/faros.proto


export interface GetDriverRequest {
  'mapId'?: (string);
  'driverId'?: (string);
}

export interface GetDriverRequest__Output {
  'mapId': (string);
  'driverId': (string);
}

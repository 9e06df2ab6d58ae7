// Original file: proto/faros/v1/peer.proto


export interface RemoveDriversRequest {
  'mapId'?: (string);
  'driverIds'?: (string)[];
}

export interface RemoveDriversRequest__Output {
  'mapId': (string);
  'driverIds': (string)[];
}

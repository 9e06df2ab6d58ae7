// Original file: proto/faros/v1/peer.proto


export interface DriverRecord {
  'driverId'?: (string);
  'lat'?: (number | string);
  'lng'?: (number | string);
  'timestampMs'?: (number | string);
  'metadata'?: ({[key: string]: string});
  'segment'?: (number);
  't'?: (number | string);
  'snapM'?: (number | string);
}

export interface DriverRecord__Output {
  'driverId': (string);
  'lat': (number);
  'lng': (number);
  'timestampMs': (number);
  'metadata': ({[key: string]: string});
  'segment': (number);
  't': (number);
  'snapM': (number);
}

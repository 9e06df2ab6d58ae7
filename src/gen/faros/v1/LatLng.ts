// Original file: proto/faros/v1/faros.proto


export interface LatLng {
  'lat'?: (number | string);
  'lng'?: (number | string);
}

export interface LatLng__Output {
  'lat': (number);
  'lng': (number);
}

// Original file: proto/faros/v1/peer.proto


export interface DriverVersion {
  'driverId'?: (string);
  'timestampMs'?: (number | string);
}

export interface DriverVersion__Output {
  'driverId': (string);
  'timestampMs': (number);
}

// Original file: proto/faros/v1/faros.proto


export interface UpdateError {
  /**
   * Position of the item in its batch.
   */
  'index'?: (number);
  'driverId'?: (string);
  /**
   * gRPC status code name, e.g. "INVALID_ARGUMENT", "OUT_OF_RANGE".
   */
  'code'?: (string);
  'message'?: (string);
}

export interface UpdateError__Output {
  /**
   * Position of the item in its batch.
   */
  'index': (number);
  'driverId': (string);
  /**
   * gRPC status code name, e.g. "INVALID_ARGUMENT", "OUT_OF_RANGE".
   */
  'code': (string);
  'message': (string);
}

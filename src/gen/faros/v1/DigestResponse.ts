// Original file: proto/faros/v1/peer.proto


export interface DigestResponse {
  /**
   * Two 32-bit halves per bucket (bucket b = digests[2b], digests[2b+1]):
   * the XOR of a 64-bit hash of (driver ID, timestamp) of every driver and of
   * (driver ID) of every remembered remove whose ID hashes into the bucket.
   */
  'digests'?: (number)[];
}

export interface DigestResponse__Output {
  /**
   * Two 32-bit halves per bucket (bucket b = digests[2b], digests[2b+1]):
   * the XOR of a 64-bit hash of (driver ID, timestamp) of every driver and of
   * (driver ID) of every remembered remove whose ID hashes into the bucket.
   */
  'digests': (number)[];
}

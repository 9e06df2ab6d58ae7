// Original file: proto/faros/v1/peer.proto


export interface PullBucketsRequest {
  'mapId'?: (string);
  'buckets'?: (number)[];
  'nowMs'?: (number | string);
}

export interface PullBucketsRequest__Output {
  'mapId': (string);
  'buckets': (number)[];
  'nowMs': (number);
}

// Original file: proto/faros/v1/peer.proto


export interface PullSnapshotRequest {
  'mapId'?: (string);
  /**
   * The puller's address: updates this instance applies from now on are
   * forwarded to it too, even before this instance's route table lists it.
   */
  'requester'?: (string);
}

export interface PullSnapshotRequest__Output {
  'mapId': (string);
  /**
   * The puller's address: updates this instance applies from now on are
   * forwarded to it too, even before this instance's route table lists it.
   */
  'requester': (string);
}

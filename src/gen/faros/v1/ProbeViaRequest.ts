// Original file: proto/faros/v1/peer.proto


export interface ProbeViaRequest {
  /**
   * The member to probe (host:peerPort). Anything this instance does not
   * know as a member or seed is refused: it never dials an arbitrary address.
   */
  'target'?: (string);
  /**
   * How long this instance's probe may take (clamped to its own
   * --probe-timeout-ms and to the call's deadline).
   */
  'timeoutMs'?: (number);
}

export interface ProbeViaRequest__Output {
  /**
   * The member to probe (host:peerPort). Anything this instance does not
   * know as a member or seed is refused: it never dials an arbitrary address.
   */
  'target': (string);
  /**
   * How long this instance's probe may take (clamped to its own
   * --probe-timeout-ms and to the call's deadline).
   */
  'timeoutMs': (number);
}

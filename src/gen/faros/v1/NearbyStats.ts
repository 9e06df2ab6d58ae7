// Original file: proto/faros/v1/faros.proto


export interface NearbyStats {
  'edgesExpanded'?: (number);
  'candidatesSeen'?: (number);
  /**
   * Instance that answered.
   */
  'servedBy'?: (string);
}

export interface NearbyStats__Output {
  'edgesExpanded': (number);
  'candidatesSeen': (number);
  /**
   * Instance that answered.
   */
  'servedBy': (string);
}

// Original file: proto/faros/v1/peer.proto

import type { UpdateDriverRequest as _faros_v1_UpdateDriverRequest, UpdateDriverRequest__Output as _faros_v1_UpdateDriverRequest__Output } from '../../faros/v1/UpdateDriverRequest.js';

export interface ApplyUpdatesRequest {
  'mapId'?: (string);
  'updates'?: (_faros_v1_UpdateDriverRequest)[];
  /**
   * Answer only once every other live replica applied them too (WRITE_ACK_ALL).
   */
  'ackAll'?: (boolean);
}

export interface ApplyUpdatesRequest__Output {
  'mapId': (string);
  'updates': (_faros_v1_UpdateDriverRequest__Output)[];
  /**
   * Answer only once every other live replica applied them too (WRITE_ACK_ALL).
   */
  'ackAll': (boolean);
}

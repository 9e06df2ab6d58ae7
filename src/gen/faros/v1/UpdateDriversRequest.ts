// Original file: proto/faros/v1/faros.proto

import type { UpdateDriverRequest as _faros_v1_UpdateDriverRequest, UpdateDriverRequest__Output as _faros_v1_UpdateDriverRequest__Output } from '../../faros/v1/UpdateDriverRequest.js';
import type { WriteAck as _faros_v1_WriteAck, WriteAck__Output as _faros_v1_WriteAck__Output } from '../../faros/v1/WriteAck.js';

export interface UpdateDriversRequest {
  'updates'?: (_faros_v1_UpdateDriverRequest)[];
  /**
   * For the whole batch (an item's own ack is ignored in a batch).
   */
  'ack'?: (_faros_v1_WriteAck);
}

export interface UpdateDriversRequest__Output {
  'updates': (_faros_v1_UpdateDriverRequest__Output)[];
  /**
   * For the whole batch (an item's own ack is ignored in a batch).
   */
  'ack': (_faros_v1_WriteAck__Output);
}

// Original file: proto/faros/v1/faros.proto

export const WriteAck = {
  WRITE_ACK_UNSPECIFIED: 'WRITE_ACK_UNSPECIFIED',
  /**
   * After the first replica applied it; the others get it within milliseconds.
   */
  WRITE_ACK_FIRST: 'WRITE_ACK_FIRST',
  /**
   * After every live replica applied it.
   */
  WRITE_ACK_ALL: 'WRITE_ACK_ALL',
} as const;

export type WriteAck =
  | 'WRITE_ACK_UNSPECIFIED'
  | 0
  /**
   * After the first replica applied it; the others get it within milliseconds.
   */
  | 'WRITE_ACK_FIRST'
  | 1
  /**
   * After every live replica applied it.
   */
  | 'WRITE_ACK_ALL'
  | 2

export type WriteAck__Output = typeof WriteAck[keyof typeof WriteAck]

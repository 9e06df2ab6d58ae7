// The request and response types of the client's methods.
// PLACEHOLDER until the types generated from the proto are merged.
// biome-ignore lint/suspicious/noExplicitAny: placeholder
type Message = any;
export type UpdateDriverRequest = Message;
export type UpdateDriverResponse = Message;
export type UpdateDriversRequest = Message;
export type UpdateDriversResponse = Message;
export type RemoveDriverRequest = Message;
export type RemoveDriverResponse = Message;
export type GetDriverRequest = Message;
export type GetDriverResponse = Message;
export type NearbyRequest = Message;
export type NearbyResponse = Message;
export type NearbyBatchRequest = Message;
export type NearbyBatchResponse = Message;
export type ListMapsResponse = Message;
export type WriteAck = 'WRITE_ACK_UNSPECIFIED' | 'WRITE_ACK_FIRST' | 'WRITE_ACK_ALL';

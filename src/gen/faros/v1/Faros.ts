// Original file: proto/faros/v1/faros.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetDriverRequest as _faros_v1_GetDriverRequest, GetDriverRequest__Output as _faros_v1_GetDriverRequest__Output } from '../../faros/v1/GetDriverRequest.js';
import type { GetDriverResponse as _faros_v1_GetDriverResponse, GetDriverResponse__Output as _faros_v1_GetDriverResponse__Output } from '../../faros/v1/GetDriverResponse.js';
import type { ListMapsRequest as _faros_v1_ListMapsRequest, ListMapsRequest__Output as _faros_v1_ListMapsRequest__Output } from '../../faros/v1/ListMapsRequest.js';
import type { ListMapsResponse as _faros_v1_ListMapsResponse, ListMapsResponse__Output as _faros_v1_ListMapsResponse__Output } from '../../faros/v1/ListMapsResponse.js';
import type { NearbyBatchRequest as _faros_v1_NearbyBatchRequest, NearbyBatchRequest__Output as _faros_v1_NearbyBatchRequest__Output } from '../../faros/v1/NearbyBatchRequest.js';
import type { NearbyBatchResponse as _faros_v1_NearbyBatchResponse, NearbyBatchResponse__Output as _faros_v1_NearbyBatchResponse__Output } from '../../faros/v1/NearbyBatchResponse.js';
import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from '../../faros/v1/NearbyRequest.js';
import type { NearbyResponse as _faros_v1_NearbyResponse, NearbyResponse__Output as _faros_v1_NearbyResponse__Output } from '../../faros/v1/NearbyResponse.js';
import type { RemoveDriverRequest as _faros_v1_RemoveDriverRequest, RemoveDriverRequest__Output as _faros_v1_RemoveDriverRequest__Output } from '../../faros/v1/RemoveDriverRequest.js';
import type { RemoveDriverResponse as _faros_v1_RemoveDriverResponse, RemoveDriverResponse__Output as _faros_v1_RemoveDriverResponse__Output } from '../../faros/v1/RemoveDriverResponse.js';
import type { StreamNearbyRequest as _faros_v1_StreamNearbyRequest, StreamNearbyRequest__Output as _faros_v1_StreamNearbyRequest__Output } from '../../faros/v1/StreamNearbyRequest.js';
import type { StreamNearbyResponse as _faros_v1_StreamNearbyResponse, StreamNearbyResponse__Output as _faros_v1_StreamNearbyResponse__Output } from '../../faros/v1/StreamNearbyResponse.js';
import type { UpdateDriverRequest as _faros_v1_UpdateDriverRequest, UpdateDriverRequest__Output as _faros_v1_UpdateDriverRequest__Output } from '../../faros/v1/UpdateDriverRequest.js';
import type { UpdateDriverResponse as _faros_v1_UpdateDriverResponse, UpdateDriverResponse__Output as _faros_v1_UpdateDriverResponse__Output } from '../../faros/v1/UpdateDriverResponse.js';
import type { UpdateDriversRequest as _faros_v1_UpdateDriversRequest, UpdateDriversRequest__Output as _faros_v1_UpdateDriversRequest__Output } from '../../faros/v1/UpdateDriversRequest.js';
import type { UpdateDriversResponse as _faros_v1_UpdateDriversResponse, UpdateDriversResponse__Output as _faros_v1_UpdateDriversResponse__Output } from '../../faros/v1/UpdateDriversResponse.js';
import type { WatchNearbyRequest as _faros_v1_WatchNearbyRequest, WatchNearbyRequest__Output as _faros_v1_WatchNearbyRequest__Output } from '../../faros/v1/WatchNearbyRequest.js';

export interface FarosClient extends grpc.Client {
  GetDriver(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  GetDriver(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  GetDriver(argument: _faros_v1_GetDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  GetDriver(argument: _faros_v1_GetDriverRequest, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getDriver(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getDriver(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getDriver(argument: _faros_v1_GetDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getDriver(argument: _faros_v1_GetDriverRequest, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  
  ListMaps(argument: _faros_v1_ListMapsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  ListMaps(argument: _faros_v1_ListMapsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  ListMaps(argument: _faros_v1_ListMapsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  ListMaps(argument: _faros_v1_ListMapsRequest, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  listMaps(argument: _faros_v1_ListMapsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  listMaps(argument: _faros_v1_ListMapsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  listMaps(argument: _faros_v1_ListMapsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  listMaps(argument: _faros_v1_ListMapsRequest, callback: grpc.requestCallback<_faros_v1_ListMapsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The K nearest drivers by road distance or ETA.
   */
  Nearby(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  Nearby(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  Nearby(argument: _faros_v1_NearbyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  Nearby(argument: _faros_v1_NearbyRequest, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The K nearest drivers by road distance or ETA.
   */
  nearby(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearby(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearby(argument: _faros_v1_NearbyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearby(argument: _faros_v1_NearbyRequest, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Many Nearby queries in one call (a dispatcher's pick-up points): one
   * result per query, in order; a query's own failure is in its result.
   */
  NearbyBatch(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  NearbyBatch(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  NearbyBatch(argument: _faros_v1_NearbyBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  NearbyBatch(argument: _faros_v1_NearbyBatchRequest, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Many Nearby queries in one call (a dispatcher's pick-up points): one
   * result per query, in order; a query's own failure is in its result.
   */
  nearbyBatch(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  nearbyBatch(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  nearbyBatch(argument: _faros_v1_NearbyBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  nearbyBatch(argument: _faros_v1_NearbyBatchRequest, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveDriver(argument: _faros_v1_RemoveDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  RemoveDriver(argument: _faros_v1_RemoveDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  RemoveDriver(argument: _faros_v1_RemoveDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  RemoveDriver(argument: _faros_v1_RemoveDriverRequest, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  removeDriver(argument: _faros_v1_RemoveDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  removeDriver(argument: _faros_v1_RemoveDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  removeDriver(argument: _faros_v1_RemoveDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  removeDriver(argument: _faros_v1_RemoveDriverRequest, callback: grpc.requestCallback<_faros_v1_RemoveDriverResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Batches of updates; one response per request message, in order.
   */
  StreamDriverUpdates(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversResponse__Output>;
  StreamDriverUpdates(options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversResponse__Output>;
  /**
   * Batches of updates; one response per request message, in order.
   */
  streamDriverUpdates(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversResponse__Output>;
  streamDriverUpdates(options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversResponse__Output>;
  
  /**
   * Nearby queries on one stream: each answer carries its request's tag,
   * in any order.
   */
  StreamNearby(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyResponse__Output>;
  StreamNearby(options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyResponse__Output>;
  /**
   * Nearby queries on one stream: each answer carries its request's tag,
   * in any order.
   */
  streamNearby(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyResponse__Output>;
  streamNearby(options?: grpc.CallOptions): grpc.ClientDuplexStream<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyResponse__Output>;
  
  /**
   * Report one driver position. Answered once the first replica applied it.
   */
  UpdateDriver(argument: _faros_v1_UpdateDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  UpdateDriver(argument: _faros_v1_UpdateDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  UpdateDriver(argument: _faros_v1_UpdateDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  UpdateDriver(argument: _faros_v1_UpdateDriverRequest, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Report one driver position. Answered once the first replica applied it.
   */
  updateDriver(argument: _faros_v1_UpdateDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  updateDriver(argument: _faros_v1_UpdateDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  updateDriver(argument: _faros_v1_UpdateDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  updateDriver(argument: _faros_v1_UpdateDriverRequest, callback: grpc.requestCallback<_faros_v1_UpdateDriverResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Watch a pick-up point: the Nearby answer first, then the full answer
   * again whenever its drivers, their order or a listed cost change beyond
   * the threshold, at most once per min_interval_ms (docs/SEMANTICS.md).
   */
  WatchNearby(argument: _faros_v1_WatchNearbyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  WatchNearby(argument: _faros_v1_WatchNearbyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  /**
   * Watch a pick-up point: the Nearby answer first, then the full answer
   * again whenever its drivers, their order or a listed cost change beyond
   * the threshold, at most once per min_interval_ms (docs/SEMANTICS.md).
   */
  watchNearby(argument: _faros_v1_WatchNearbyRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  watchNearby(argument: _faros_v1_WatchNearbyRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  
}

export interface FarosHandlers extends grpc.UntypedServiceImplementation {
  GetDriver: grpc.handleUnaryCall<_faros_v1_GetDriverRequest__Output, _faros_v1_GetDriverResponse>;
  
  ListMaps: grpc.handleUnaryCall<_faros_v1_ListMapsRequest__Output, _faros_v1_ListMapsResponse>;
  
  /**
   * The K nearest drivers by road distance or ETA.
   */
  Nearby: grpc.handleUnaryCall<_faros_v1_NearbyRequest__Output, _faros_v1_NearbyResponse>;
  
  /**
   * Many Nearby queries in one call (a dispatcher's pick-up points): one
   * result per query, in order; a query's own failure is in its result.
   */
  NearbyBatch: grpc.handleUnaryCall<_faros_v1_NearbyBatchRequest__Output, _faros_v1_NearbyBatchResponse>;
  
  RemoveDriver: grpc.handleUnaryCall<_faros_v1_RemoveDriverRequest__Output, _faros_v1_RemoveDriverResponse>;
  
  /**
   * Batches of updates; one response per request message, in order.
   */
  StreamDriverUpdates: grpc.handleBidiStreamingCall<_faros_v1_UpdateDriversRequest__Output, _faros_v1_UpdateDriversResponse>;
  
  /**
   * Nearby queries on one stream: each answer carries its request's tag,
   * in any order.
   */
  StreamNearby: grpc.handleBidiStreamingCall<_faros_v1_StreamNearbyRequest__Output, _faros_v1_StreamNearbyResponse>;
  
  /**
   * Report one driver position. Answered once the first replica applied it.
   */
  UpdateDriver: grpc.handleUnaryCall<_faros_v1_UpdateDriverRequest__Output, _faros_v1_UpdateDriverResponse>;
  
  /**
   * Watch a pick-up point: the Nearby answer first, then the full answer
   * again whenever its drivers, their order or a listed cost change beyond
   * the threshold, at most once per min_interval_ms (docs/SEMANTICS.md).
   */
  WatchNearby: grpc.handleServerStreamingCall<_faros_v1_WatchNearbyRequest__Output, _faros_v1_NearbyResponse>;
  
}

export interface FarosDefinition extends grpc.ServiceDefinition {
  GetDriver: MethodDefinition<_faros_v1_GetDriverRequest, _faros_v1_GetDriverResponse, _faros_v1_GetDriverRequest__Output, _faros_v1_GetDriverResponse__Output>
  ListMaps: MethodDefinition<_faros_v1_ListMapsRequest, _faros_v1_ListMapsResponse, _faros_v1_ListMapsRequest__Output, _faros_v1_ListMapsResponse__Output>
  Nearby: MethodDefinition<_faros_v1_NearbyRequest, _faros_v1_NearbyResponse, _faros_v1_NearbyRequest__Output, _faros_v1_NearbyResponse__Output>
  NearbyBatch: MethodDefinition<_faros_v1_NearbyBatchRequest, _faros_v1_NearbyBatchResponse, _faros_v1_NearbyBatchRequest__Output, _faros_v1_NearbyBatchResponse__Output>
  RemoveDriver: MethodDefinition<_faros_v1_RemoveDriverRequest, _faros_v1_RemoveDriverResponse, _faros_v1_RemoveDriverRequest__Output, _faros_v1_RemoveDriverResponse__Output>
  StreamDriverUpdates: MethodDefinition<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversResponse, _faros_v1_UpdateDriversRequest__Output, _faros_v1_UpdateDriversResponse__Output>
  StreamNearby: MethodDefinition<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyResponse, _faros_v1_StreamNearbyRequest__Output, _faros_v1_StreamNearbyResponse__Output>
  UpdateDriver: MethodDefinition<_faros_v1_UpdateDriverRequest, _faros_v1_UpdateDriverResponse, _faros_v1_UpdateDriverRequest__Output, _faros_v1_UpdateDriverResponse__Output>
  WatchNearby: MethodDefinition<_faros_v1_WatchNearbyRequest, _faros_v1_NearbyResponse, _faros_v1_WatchNearbyRequest__Output, _faros_v1_NearbyResponse__Output>
}

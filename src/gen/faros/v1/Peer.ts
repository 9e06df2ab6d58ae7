// Original file: proto/faros/v1/peer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyRecordsRequest as _faros_v1_ApplyRecordsRequest, ApplyRecordsRequest__Output as _faros_v1_ApplyRecordsRequest__Output } from '../../faros/v1/ApplyRecordsRequest.js';
import type { ApplyRecordsResponse as _faros_v1_ApplyRecordsResponse, ApplyRecordsResponse__Output as _faros_v1_ApplyRecordsResponse__Output } from '../../faros/v1/ApplyRecordsResponse.js';
import type { ApplyUpdatesRequest as _faros_v1_ApplyUpdatesRequest, ApplyUpdatesRequest__Output as _faros_v1_ApplyUpdatesRequest__Output } from '../../faros/v1/ApplyUpdatesRequest.js';
import type { ApplyUpdatesResponse as _faros_v1_ApplyUpdatesResponse, ApplyUpdatesResponse__Output as _faros_v1_ApplyUpdatesResponse__Output } from '../../faros/v1/ApplyUpdatesResponse.js';
import type { DigestRequest as _faros_v1_DigestRequest, DigestRequest__Output as _faros_v1_DigestRequest__Output } from '../../faros/v1/DigestRequest.js';
import type { DigestResponse as _faros_v1_DigestResponse, DigestResponse__Output as _faros_v1_DigestResponse__Output } from '../../faros/v1/DigestResponse.js';
import type { GetDriverRequest as _faros_v1_GetDriverRequest, GetDriverRequest__Output as _faros_v1_GetDriverRequest__Output } from '../../faros/v1/GetDriverRequest.js';
import type { GetDriverResponse as _faros_v1_GetDriverResponse, GetDriverResponse__Output as _faros_v1_GetDriverResponse__Output } from '../../faros/v1/GetDriverResponse.js';
import type { NearbyBatchRequest as _faros_v1_NearbyBatchRequest, NearbyBatchRequest__Output as _faros_v1_NearbyBatchRequest__Output } from '../../faros/v1/NearbyBatchRequest.js';
import type { NearbyBatchResponse as _faros_v1_NearbyBatchResponse, NearbyBatchResponse__Output as _faros_v1_NearbyBatchResponse__Output } from '../../faros/v1/NearbyBatchResponse.js';
import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from '../../faros/v1/NearbyRequest.js';
import type { NearbyResponse as _faros_v1_NearbyResponse, NearbyResponse__Output as _faros_v1_NearbyResponse__Output } from '../../faros/v1/NearbyResponse.js';
import type { ProbeViaRequest as _faros_v1_ProbeViaRequest, ProbeViaRequest__Output as _faros_v1_ProbeViaRequest__Output } from '../../faros/v1/ProbeViaRequest.js';
import type { ProbeViaResponse as _faros_v1_ProbeViaResponse, ProbeViaResponse__Output as _faros_v1_ProbeViaResponse__Output } from '../../faros/v1/ProbeViaResponse.js';
import type { PullBucketsRequest as _faros_v1_PullBucketsRequest, PullBucketsRequest__Output as _faros_v1_PullBucketsRequest__Output } from '../../faros/v1/PullBucketsRequest.js';
import type { PullBucketsResponse as _faros_v1_PullBucketsResponse, PullBucketsResponse__Output as _faros_v1_PullBucketsResponse__Output } from '../../faros/v1/PullBucketsResponse.js';
import type { PullRecordsRequest as _faros_v1_PullRecordsRequest, PullRecordsRequest__Output as _faros_v1_PullRecordsRequest__Output } from '../../faros/v1/PullRecordsRequest.js';
import type { PullRecordsResponse as _faros_v1_PullRecordsResponse, PullRecordsResponse__Output as _faros_v1_PullRecordsResponse__Output } from '../../faros/v1/PullRecordsResponse.js';
import type { PullSnapshotRequest as _faros_v1_PullSnapshotRequest, PullSnapshotRequest__Output as _faros_v1_PullSnapshotRequest__Output } from '../../faros/v1/PullSnapshotRequest.js';
import type { RemoveDriversRequest as _faros_v1_RemoveDriversRequest, RemoveDriversRequest__Output as _faros_v1_RemoveDriversRequest__Output } from '../../faros/v1/RemoveDriversRequest.js';
import type { RemoveDriversResponse as _faros_v1_RemoveDriversResponse, RemoveDriversResponse__Output as _faros_v1_RemoveDriversResponse__Output } from '../../faros/v1/RemoveDriversResponse.js';
import type { SnapshotChunk as _faros_v1_SnapshotChunk, SnapshotChunk__Output as _faros_v1_SnapshotChunk__Output } from '../../faros/v1/SnapshotChunk.js';
import type { StatusRequest as _faros_v1_StatusRequest, StatusRequest__Output as _faros_v1_StatusRequest__Output } from '../../faros/v1/StatusRequest.js';
import type { StatusResponse as _faros_v1_StatusResponse, StatusResponse__Output as _faros_v1_StatusResponse__Output } from '../../faros/v1/StatusResponse.js';
import type { WatchLocalRequest as _faros_v1_WatchLocalRequest, WatchLocalRequest__Output as _faros_v1_WatchLocalRequest__Output } from '../../faros/v1/WatchLocalRequest.js';

export interface PeerClient extends grpc.Client {
  /**
   * Apply driver records (already snapped) to local replicas; newest timestamp wins.
   */
  ApplyRecords(argument: _faros_v1_ApplyRecordsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  ApplyRecords(argument: _faros_v1_ApplyRecordsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  ApplyRecords(argument: _faros_v1_ApplyRecordsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  ApplyRecords(argument: _faros_v1_ApplyRecordsRequest, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Apply driver records (already snapped) to local replicas; newest timestamp wins.
   */
  applyRecords(argument: _faros_v1_ApplyRecordsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  applyRecords(argument: _faros_v1_ApplyRecordsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  applyRecords(argument: _faros_v1_ApplyRecordsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  applyRecords(argument: _faros_v1_ApplyRecordsRequest, callback: grpc.requestCallback<_faros_v1_ApplyRecordsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Snap + apply raw updates on this replica (the first hop of a client update).
   */
  ApplyUpdates(argument: _faros_v1_ApplyUpdatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  ApplyUpdates(argument: _faros_v1_ApplyUpdatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  ApplyUpdates(argument: _faros_v1_ApplyUpdatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  ApplyUpdates(argument: _faros_v1_ApplyUpdatesRequest, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Snap + apply raw updates on this replica (the first hop of a client update).
   */
  applyUpdates(argument: _faros_v1_ApplyUpdatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  applyUpdates(argument: _faros_v1_ApplyUpdatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  applyUpdates(argument: _faros_v1_ApplyUpdatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  applyUpdates(argument: _faros_v1_ApplyUpdatesRequest, callback: grpc.requestCallback<_faros_v1_ApplyUpdatesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Anti-entropy (src/node/anti-entropy.ts): this replica's digest of one
   * map, per bucket of driver IDs; the versions (ID, timestamp) and removes
   * of the buckets that differ; then the records the asker lacks.
   */
  Digest(argument: _faros_v1_DigestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  Digest(argument: _faros_v1_DigestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  Digest(argument: _faros_v1_DigestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  Digest(argument: _faros_v1_DigestRequest, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Anti-entropy (src/node/anti-entropy.ts): this replica's digest of one
   * map, per bucket of driver IDs; the versions (ID, timestamp) and removes
   * of the buckets that differ; then the records the asker lacks.
   */
  digest(argument: _faros_v1_DigestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  digest(argument: _faros_v1_DigestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  digest(argument: _faros_v1_DigestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  digest(argument: _faros_v1_DigestRequest, callback: grpc.requestCallback<_faros_v1_DigestResponse__Output>): grpc.ClientUnaryCall;
  
  GetLocal(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  GetLocal(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  GetLocal(argument: _faros_v1_GetDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  GetLocal(argument: _faros_v1_GetDriverRequest, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getLocal(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getLocal(argument: _faros_v1_GetDriverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getLocal(argument: _faros_v1_GetDriverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  getLocal(argument: _faros_v1_GetDriverRequest, callback: grpc.requestCallback<_faros_v1_GetDriverResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Queries of one map, answered by this replica (a NearbyBatch routed here).
   */
  NearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  NearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  NearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  NearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Queries of one map, answered by this replica (a NearbyBatch routed here).
   */
  nearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  nearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  nearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  nearbyBatchLocal(argument: _faros_v1_NearbyBatchRequest, callback: grpc.requestCallback<_faros_v1_NearbyBatchResponse__Output>): grpc.ClientUnaryCall;
  
  NearbyLocal(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  NearbyLocal(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  NearbyLocal(argument: _faros_v1_NearbyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  NearbyLocal(argument: _faros_v1_NearbyRequest, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearbyLocal(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearbyLocal(argument: _faros_v1_NearbyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearbyLocal(argument: _faros_v1_NearbyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  nearbyLocal(argument: _faros_v1_NearbyRequest, callback: grpc.requestCallback<_faros_v1_NearbyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Indirect probe (SWIM's ping-req): probe `target`, a member or seed this
   * instance knows, for a caller whose own probes of it fail, so one broken
   * link does not evict a live member.
   */
  ProbeVia(argument: _faros_v1_ProbeViaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  ProbeVia(argument: _faros_v1_ProbeViaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  ProbeVia(argument: _faros_v1_ProbeViaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  ProbeVia(argument: _faros_v1_ProbeViaRequest, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Indirect probe (SWIM's ping-req): probe `target`, a member or seed this
   * instance knows, for a caller whose own probes of it fail, so one broken
   * link does not evict a live member.
   */
  probeVia(argument: _faros_v1_ProbeViaRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  probeVia(argument: _faros_v1_ProbeViaRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  probeVia(argument: _faros_v1_ProbeViaRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  probeVia(argument: _faros_v1_ProbeViaRequest, callback: grpc.requestCallback<_faros_v1_ProbeViaResponse__Output>): grpc.ClientUnaryCall;
  
  PullBuckets(argument: _faros_v1_PullBucketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  PullBuckets(argument: _faros_v1_PullBucketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  PullBuckets(argument: _faros_v1_PullBucketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  PullBuckets(argument: _faros_v1_PullBucketsRequest, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  pullBuckets(argument: _faros_v1_PullBucketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  pullBuckets(argument: _faros_v1_PullBucketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  pullBuckets(argument: _faros_v1_PullBucketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  pullBuckets(argument: _faros_v1_PullBucketsRequest, callback: grpc.requestCallback<_faros_v1_PullBucketsResponse__Output>): grpc.ClientUnaryCall;
  
  PullRecords(argument: _faros_v1_PullRecordsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  PullRecords(argument: _faros_v1_PullRecordsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  PullRecords(argument: _faros_v1_PullRecordsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  PullRecords(argument: _faros_v1_PullRecordsRequest, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  pullRecords(argument: _faros_v1_PullRecordsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  pullRecords(argument: _faros_v1_PullRecordsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  pullRecords(argument: _faros_v1_PullRecordsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  pullRecords(argument: _faros_v1_PullRecordsRequest, callback: grpc.requestCallback<_faros_v1_PullRecordsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * State transfer: every driver of one copy-on-write snapshot, in chunks.
   */
  PullSnapshot(argument: _faros_v1_PullSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_SnapshotChunk__Output>;
  PullSnapshot(argument: _faros_v1_PullSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_SnapshotChunk__Output>;
  /**
   * State transfer: every driver of one copy-on-write snapshot, in chunks.
   */
  pullSnapshot(argument: _faros_v1_PullSnapshotRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_SnapshotChunk__Output>;
  pullSnapshot(argument: _faros_v1_PullSnapshotRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_SnapshotChunk__Output>;
  
  RemoveDrivers(argument: _faros_v1_RemoveDriversRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  RemoveDrivers(argument: _faros_v1_RemoveDriversRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  RemoveDrivers(argument: _faros_v1_RemoveDriversRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  RemoveDrivers(argument: _faros_v1_RemoveDriversRequest, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  removeDrivers(argument: _faros_v1_RemoveDriversRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  removeDrivers(argument: _faros_v1_RemoveDriversRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  removeDrivers(argument: _faros_v1_RemoveDriversRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  removeDrivers(argument: _faros_v1_RemoveDriversRequest, callback: grpc.requestCallback<_faros_v1_RemoveDriversResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Which maps this instance holds and serves.
   */
  Status(argument: _faros_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _faros_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _faros_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _faros_v1_StatusRequest, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Which maps this instance holds and serves.
   */
  status(argument: _faros_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _faros_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _faros_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _faros_v1_StatusRequest, callback: grpc.requestCallback<_faros_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A client's watch served by this replica (the instance the client called
   * relays it, and moves it to another replica if this one goes away).
   */
  WatchLocal(argument: _faros_v1_WatchLocalRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  WatchLocal(argument: _faros_v1_WatchLocalRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  /**
   * A client's watch served by this replica (the instance the client called
   * relays it, and moves it to another replica if this one goes away).
   */
  watchLocal(argument: _faros_v1_WatchLocalRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  watchLocal(argument: _faros_v1_WatchLocalRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_faros_v1_NearbyResponse__Output>;
  
}

export interface PeerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Apply driver records (already snapped) to local replicas; newest timestamp wins.
   */
  ApplyRecords: grpc.handleUnaryCall<_faros_v1_ApplyRecordsRequest__Output, _faros_v1_ApplyRecordsResponse>;
  
  /**
   * Snap + apply raw updates on this replica (the first hop of a client update).
   */
  ApplyUpdates: grpc.handleUnaryCall<_faros_v1_ApplyUpdatesRequest__Output, _faros_v1_ApplyUpdatesResponse>;
  
  /**
   * Anti-entropy (src/node/anti-entropy.ts): this replica's digest of one
   * map, per bucket of driver IDs; the versions (ID, timestamp) and removes
   * of the buckets that differ; then the records the asker lacks.
   */
  Digest: grpc.handleUnaryCall<_faros_v1_DigestRequest__Output, _faros_v1_DigestResponse>;
  
  GetLocal: grpc.handleUnaryCall<_faros_v1_GetDriverRequest__Output, _faros_v1_GetDriverResponse>;
  
  /**
   * Queries of one map, answered by this replica (a NearbyBatch routed here).
   */
  NearbyBatchLocal: grpc.handleUnaryCall<_faros_v1_NearbyBatchRequest__Output, _faros_v1_NearbyBatchResponse>;
  
  NearbyLocal: grpc.handleUnaryCall<_faros_v1_NearbyRequest__Output, _faros_v1_NearbyResponse>;
  
  /**
   * Indirect probe (SWIM's ping-req): probe `target`, a member or seed this
   * instance knows, for a caller whose own probes of it fail, so one broken
   * link does not evict a live member.
   */
  ProbeVia: grpc.handleUnaryCall<_faros_v1_ProbeViaRequest__Output, _faros_v1_ProbeViaResponse>;
  
  PullBuckets: grpc.handleUnaryCall<_faros_v1_PullBucketsRequest__Output, _faros_v1_PullBucketsResponse>;
  
  PullRecords: grpc.handleUnaryCall<_faros_v1_PullRecordsRequest__Output, _faros_v1_PullRecordsResponse>;
  
  /**
   * State transfer: every driver of one copy-on-write snapshot, in chunks.
   */
  PullSnapshot: grpc.handleServerStreamingCall<_faros_v1_PullSnapshotRequest__Output, _faros_v1_SnapshotChunk>;
  
  RemoveDrivers: grpc.handleUnaryCall<_faros_v1_RemoveDriversRequest__Output, _faros_v1_RemoveDriversResponse>;
  
  /**
   * Which maps this instance holds and serves.
   */
  Status: grpc.handleUnaryCall<_faros_v1_StatusRequest__Output, _faros_v1_StatusResponse>;
  
  /**
   * A client's watch served by this replica (the instance the client called
   * relays it, and moves it to another replica if this one goes away).
   */
  WatchLocal: grpc.handleServerStreamingCall<_faros_v1_WatchLocalRequest__Output, _faros_v1_NearbyResponse>;
  
}

export interface PeerDefinition extends grpc.ServiceDefinition {
  ApplyRecords: MethodDefinition<_faros_v1_ApplyRecordsRequest, _faros_v1_ApplyRecordsResponse, _faros_v1_ApplyRecordsRequest__Output, _faros_v1_ApplyRecordsResponse__Output>
  ApplyUpdates: MethodDefinition<_faros_v1_ApplyUpdatesRequest, _faros_v1_ApplyUpdatesResponse, _faros_v1_ApplyUpdatesRequest__Output, _faros_v1_ApplyUpdatesResponse__Output>
  Digest: MethodDefinition<_faros_v1_DigestRequest, _faros_v1_DigestResponse, _faros_v1_DigestRequest__Output, _faros_v1_DigestResponse__Output>
  GetLocal: MethodDefinition<_faros_v1_GetDriverRequest, _faros_v1_GetDriverResponse, _faros_v1_GetDriverRequest__Output, _faros_v1_GetDriverResponse__Output>
  NearbyBatchLocal: MethodDefinition<_faros_v1_NearbyBatchRequest, _faros_v1_NearbyBatchResponse, _faros_v1_NearbyBatchRequest__Output, _faros_v1_NearbyBatchResponse__Output>
  NearbyLocal: MethodDefinition<_faros_v1_NearbyRequest, _faros_v1_NearbyResponse, _faros_v1_NearbyRequest__Output, _faros_v1_NearbyResponse__Output>
  ProbeVia: MethodDefinition<_faros_v1_ProbeViaRequest, _faros_v1_ProbeViaResponse, _faros_v1_ProbeViaRequest__Output, _faros_v1_ProbeViaResponse__Output>
  PullBuckets: MethodDefinition<_faros_v1_PullBucketsRequest, _faros_v1_PullBucketsResponse, _faros_v1_PullBucketsRequest__Output, _faros_v1_PullBucketsResponse__Output>
  PullRecords: MethodDefinition<_faros_v1_PullRecordsRequest, _faros_v1_PullRecordsResponse, _faros_v1_PullRecordsRequest__Output, _faros_v1_PullRecordsResponse__Output>
  PullSnapshot: MethodDefinition<_faros_v1_PullSnapshotRequest, _faros_v1_SnapshotChunk, _faros_v1_PullSnapshotRequest__Output, _faros_v1_SnapshotChunk__Output>
  RemoveDrivers: MethodDefinition<_faros_v1_RemoveDriversRequest, _faros_v1_RemoveDriversResponse, _faros_v1_RemoveDriversRequest__Output, _faros_v1_RemoveDriversResponse__Output>
  Status: MethodDefinition<_faros_v1_StatusRequest, _faros_v1_StatusResponse, _faros_v1_StatusRequest__Output, _faros_v1_StatusResponse__Output>
  WatchLocal: MethodDefinition<_faros_v1_WatchLocalRequest, _faros_v1_NearbyResponse, _faros_v1_WatchLocalRequest__Output, _faros_v1_NearbyResponse__Output>
}

import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyRecordsRequest as _faros_v1_ApplyRecordsRequest, ApplyRecordsRequest__Output as _faros_v1_ApplyRecordsRequest__Output } from './faros/v1/ApplyRecordsRequest.js';
import type { ApplyRecordsResponse as _faros_v1_ApplyRecordsResponse, ApplyRecordsResponse__Output as _faros_v1_ApplyRecordsResponse__Output } from './faros/v1/ApplyRecordsResponse.js';
import type { ApplyUpdatesRequest as _faros_v1_ApplyUpdatesRequest, ApplyUpdatesRequest__Output as _faros_v1_ApplyUpdatesRequest__Output } from './faros/v1/ApplyUpdatesRequest.js';
import type { ApplyUpdatesResponse as _faros_v1_ApplyUpdatesResponse, ApplyUpdatesResponse__Output as _faros_v1_ApplyUpdatesResponse__Output } from './faros/v1/ApplyUpdatesResponse.js';
import type { Bounds as _faros_v1_Bounds, Bounds__Output as _faros_v1_Bounds__Output } from './faros/v1/Bounds.js';
import type { DigestRequest as _faros_v1_DigestRequest, DigestRequest__Output as _faros_v1_DigestRequest__Output } from './faros/v1/DigestRequest.js';
import type { DigestResponse as _faros_v1_DigestResponse, DigestResponse__Output as _faros_v1_DigestResponse__Output } from './faros/v1/DigestResponse.js';
import type { Driver as _faros_v1_Driver, Driver__Output as _faros_v1_Driver__Output } from './faros/v1/Driver.js';
import type { DriverRecord as _faros_v1_DriverRecord, DriverRecord__Output as _faros_v1_DriverRecord__Output } from './faros/v1/DriverRecord.js';
import type { DriverVersion as _faros_v1_DriverVersion, DriverVersion__Output as _faros_v1_DriverVersion__Output } from './faros/v1/DriverVersion.js';
import type { FarosClient as _faros_v1_FarosClient, FarosDefinition as _faros_v1_FarosDefinition } from './faros/v1/Faros.js';
import type { GetDriverRequest as _faros_v1_GetDriverRequest, GetDriverRequest__Output as _faros_v1_GetDriverRequest__Output } from './faros/v1/GetDriverRequest.js';
import type { GetDriverResponse as _faros_v1_GetDriverResponse, GetDriverResponse__Output as _faros_v1_GetDriverResponse__Output } from './faros/v1/GetDriverResponse.js';
import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from './faros/v1/LatLng.js';
import type { ListMapsRequest as _faros_v1_ListMapsRequest, ListMapsRequest__Output as _faros_v1_ListMapsRequest__Output } from './faros/v1/ListMapsRequest.js';
import type { ListMapsResponse as _faros_v1_ListMapsResponse, ListMapsResponse__Output as _faros_v1_ListMapsResponse__Output } from './faros/v1/ListMapsResponse.js';
import type { MapInfo as _faros_v1_MapInfo, MapInfo__Output as _faros_v1_MapInfo__Output } from './faros/v1/MapInfo.js';
import type { MapStatus as _faros_v1_MapStatus, MapStatus__Output as _faros_v1_MapStatus__Output } from './faros/v1/MapStatus.js';
import type { NearbyBatchRequest as _faros_v1_NearbyBatchRequest, NearbyBatchRequest__Output as _faros_v1_NearbyBatchRequest__Output } from './faros/v1/NearbyBatchRequest.js';
import type { NearbyBatchResponse as _faros_v1_NearbyBatchResponse, NearbyBatchResponse__Output as _faros_v1_NearbyBatchResponse__Output } from './faros/v1/NearbyBatchResponse.js';
import type { NearbyDriver as _faros_v1_NearbyDriver, NearbyDriver__Output as _faros_v1_NearbyDriver__Output } from './faros/v1/NearbyDriver.js';
import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from './faros/v1/NearbyRequest.js';
import type { NearbyResponse as _faros_v1_NearbyResponse, NearbyResponse__Output as _faros_v1_NearbyResponse__Output } from './faros/v1/NearbyResponse.js';
import type { NearbyResult as _faros_v1_NearbyResult, NearbyResult__Output as _faros_v1_NearbyResult__Output } from './faros/v1/NearbyResult.js';
import type { NearbyStats as _faros_v1_NearbyStats, NearbyStats__Output as _faros_v1_NearbyStats__Output } from './faros/v1/NearbyStats.js';
import type { PeerClient as _faros_v1_PeerClient, PeerDefinition as _faros_v1_PeerDefinition } from './faros/v1/Peer.js';
import type { ProbeViaRequest as _faros_v1_ProbeViaRequest, ProbeViaRequest__Output as _faros_v1_ProbeViaRequest__Output } from './faros/v1/ProbeViaRequest.js';
import type { ProbeViaResponse as _faros_v1_ProbeViaResponse, ProbeViaResponse__Output as _faros_v1_ProbeViaResponse__Output } from './faros/v1/ProbeViaResponse.js';
import type { PullBucketsRequest as _faros_v1_PullBucketsRequest, PullBucketsRequest__Output as _faros_v1_PullBucketsRequest__Output } from './faros/v1/PullBucketsRequest.js';
import type { PullBucketsResponse as _faros_v1_PullBucketsResponse, PullBucketsResponse__Output as _faros_v1_PullBucketsResponse__Output } from './faros/v1/PullBucketsResponse.js';
import type { PullRecordsRequest as _faros_v1_PullRecordsRequest, PullRecordsRequest__Output as _faros_v1_PullRecordsRequest__Output } from './faros/v1/PullRecordsRequest.js';
import type { PullRecordsResponse as _faros_v1_PullRecordsResponse, PullRecordsResponse__Output as _faros_v1_PullRecordsResponse__Output } from './faros/v1/PullRecordsResponse.js';
import type { PullSnapshotRequest as _faros_v1_PullSnapshotRequest, PullSnapshotRequest__Output as _faros_v1_PullSnapshotRequest__Output } from './faros/v1/PullSnapshotRequest.js';
import type { RemoveDriverRequest as _faros_v1_RemoveDriverRequest, RemoveDriverRequest__Output as _faros_v1_RemoveDriverRequest__Output } from './faros/v1/RemoveDriverRequest.js';
import type { RemoveDriverResponse as _faros_v1_RemoveDriverResponse, RemoveDriverResponse__Output as _faros_v1_RemoveDriverResponse__Output } from './faros/v1/RemoveDriverResponse.js';
import type { RemoveDriversRequest as _faros_v1_RemoveDriversRequest, RemoveDriversRequest__Output as _faros_v1_RemoveDriversRequest__Output } from './faros/v1/RemoveDriversRequest.js';
import type { RemoveDriversResponse as _faros_v1_RemoveDriversResponse, RemoveDriversResponse__Output as _faros_v1_RemoveDriversResponse__Output } from './faros/v1/RemoveDriversResponse.js';
import type { SnappedPoint as _faros_v1_SnappedPoint, SnappedPoint__Output as _faros_v1_SnappedPoint__Output } from './faros/v1/SnappedPoint.js';
import type { SnapshotChunk as _faros_v1_SnapshotChunk, SnapshotChunk__Output as _faros_v1_SnapshotChunk__Output } from './faros/v1/SnapshotChunk.js';
import type { StatusRequest as _faros_v1_StatusRequest, StatusRequest__Output as _faros_v1_StatusRequest__Output } from './faros/v1/StatusRequest.js';
import type { StatusResponse as _faros_v1_StatusResponse, StatusResponse__Output as _faros_v1_StatusResponse__Output } from './faros/v1/StatusResponse.js';
import type { StreamNearbyRequest as _faros_v1_StreamNearbyRequest, StreamNearbyRequest__Output as _faros_v1_StreamNearbyRequest__Output } from './faros/v1/StreamNearbyRequest.js';
import type { StreamNearbyResponse as _faros_v1_StreamNearbyResponse, StreamNearbyResponse__Output as _faros_v1_StreamNearbyResponse__Output } from './faros/v1/StreamNearbyResponse.js';
import type { Tombstone as _faros_v1_Tombstone, Tombstone__Output as _faros_v1_Tombstone__Output } from './faros/v1/Tombstone.js';
import type { UpdateDriverRequest as _faros_v1_UpdateDriverRequest, UpdateDriverRequest__Output as _faros_v1_UpdateDriverRequest__Output } from './faros/v1/UpdateDriverRequest.js';
import type { UpdateDriverResponse as _faros_v1_UpdateDriverResponse, UpdateDriverResponse__Output as _faros_v1_UpdateDriverResponse__Output } from './faros/v1/UpdateDriverResponse.js';
import type { UpdateDriversRequest as _faros_v1_UpdateDriversRequest, UpdateDriversRequest__Output as _faros_v1_UpdateDriversRequest__Output } from './faros/v1/UpdateDriversRequest.js';
import type { UpdateDriversResponse as _faros_v1_UpdateDriversResponse, UpdateDriversResponse__Output as _faros_v1_UpdateDriversResponse__Output } from './faros/v1/UpdateDriversResponse.js';
import type { UpdateError as _faros_v1_UpdateError, UpdateError__Output as _faros_v1_UpdateError__Output } from './faros/v1/UpdateError.js';
import type { UpdateOutcome as _faros_v1_UpdateOutcome, UpdateOutcome__Output as _faros_v1_UpdateOutcome__Output } from './faros/v1/UpdateOutcome.js';
import type { WatchLocalRequest as _faros_v1_WatchLocalRequest, WatchLocalRequest__Output as _faros_v1_WatchLocalRequest__Output } from './faros/v1/WatchLocalRequest.js';
import type { WatchNearbyRequest as _faros_v1_WatchNearbyRequest, WatchNearbyRequest__Output as _faros_v1_WatchNearbyRequest__Output } from './faros/v1/WatchNearbyRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  faros: {
    v1: {
      ApplyRecordsRequest: MessageTypeDefinition<_faros_v1_ApplyRecordsRequest, _faros_v1_ApplyRecordsRequest__Output>
      ApplyRecordsResponse: MessageTypeDefinition<_faros_v1_ApplyRecordsResponse, _faros_v1_ApplyRecordsResponse__Output>
      ApplyUpdatesRequest: MessageTypeDefinition<_faros_v1_ApplyUpdatesRequest, _faros_v1_ApplyUpdatesRequest__Output>
      ApplyUpdatesResponse: MessageTypeDefinition<_faros_v1_ApplyUpdatesResponse, _faros_v1_ApplyUpdatesResponse__Output>
      Bounds: MessageTypeDefinition<_faros_v1_Bounds, _faros_v1_Bounds__Output>
      DigestRequest: MessageTypeDefinition<_faros_v1_DigestRequest, _faros_v1_DigestRequest__Output>
      DigestResponse: MessageTypeDefinition<_faros_v1_DigestResponse, _faros_v1_DigestResponse__Output>
      Driver: MessageTypeDefinition<_faros_v1_Driver, _faros_v1_Driver__Output>
      DriverRecord: MessageTypeDefinition<_faros_v1_DriverRecord, _faros_v1_DriverRecord__Output>
      DriverVersion: MessageTypeDefinition<_faros_v1_DriverVersion, _faros_v1_DriverVersion__Output>
      Faros: SubtypeConstructor<typeof grpc.Client, _faros_v1_FarosClient> & { service: _faros_v1_FarosDefinition }
      GetDriverRequest: MessageTypeDefinition<_faros_v1_GetDriverRequest, _faros_v1_GetDriverRequest__Output>
      GetDriverResponse: MessageTypeDefinition<_faros_v1_GetDriverResponse, _faros_v1_GetDriverResponse__Output>
      LatLng: MessageTypeDefinition<_faros_v1_LatLng, _faros_v1_LatLng__Output>
      ListMapsRequest: MessageTypeDefinition<_faros_v1_ListMapsRequest, _faros_v1_ListMapsRequest__Output>
      ListMapsResponse: MessageTypeDefinition<_faros_v1_ListMapsResponse, _faros_v1_ListMapsResponse__Output>
      MapInfo: MessageTypeDefinition<_faros_v1_MapInfo, _faros_v1_MapInfo__Output>
      MapStatus: MessageTypeDefinition<_faros_v1_MapStatus, _faros_v1_MapStatus__Output>
      Metric: EnumTypeDefinition
      NearbyBatchRequest: MessageTypeDefinition<_faros_v1_NearbyBatchRequest, _faros_v1_NearbyBatchRequest__Output>
      NearbyBatchResponse: MessageTypeDefinition<_faros_v1_NearbyBatchResponse, _faros_v1_NearbyBatchResponse__Output>
      NearbyDriver: MessageTypeDefinition<_faros_v1_NearbyDriver, _faros_v1_NearbyDriver__Output>
      NearbyRequest: MessageTypeDefinition<_faros_v1_NearbyRequest, _faros_v1_NearbyRequest__Output>
      NearbyResponse: MessageTypeDefinition<_faros_v1_NearbyResponse, _faros_v1_NearbyResponse__Output>
      NearbyResult: MessageTypeDefinition<_faros_v1_NearbyResult, _faros_v1_NearbyResult__Output>
      NearbyStats: MessageTypeDefinition<_faros_v1_NearbyStats, _faros_v1_NearbyStats__Output>
      Peer: SubtypeConstructor<typeof grpc.Client, _faros_v1_PeerClient> & { service: _faros_v1_PeerDefinition }
      ProbeViaRequest: MessageTypeDefinition<_faros_v1_ProbeViaRequest, _faros_v1_ProbeViaRequest__Output>
      ProbeViaResponse: MessageTypeDefinition<_faros_v1_ProbeViaResponse, _faros_v1_ProbeViaResponse__Output>
      PullBucketsRequest: MessageTypeDefinition<_faros_v1_PullBucketsRequest, _faros_v1_PullBucketsRequest__Output>
      PullBucketsResponse: MessageTypeDefinition<_faros_v1_PullBucketsResponse, _faros_v1_PullBucketsResponse__Output>
      PullRecordsRequest: MessageTypeDefinition<_faros_v1_PullRecordsRequest, _faros_v1_PullRecordsRequest__Output>
      PullRecordsResponse: MessageTypeDefinition<_faros_v1_PullRecordsResponse, _faros_v1_PullRecordsResponse__Output>
      PullSnapshotRequest: MessageTypeDefinition<_faros_v1_PullSnapshotRequest, _faros_v1_PullSnapshotRequest__Output>
      RemoveDriverRequest: MessageTypeDefinition<_faros_v1_RemoveDriverRequest, _faros_v1_RemoveDriverRequest__Output>
      RemoveDriverResponse: MessageTypeDefinition<_faros_v1_RemoveDriverResponse, _faros_v1_RemoveDriverResponse__Output>
      RemoveDriversRequest: MessageTypeDefinition<_faros_v1_RemoveDriversRequest, _faros_v1_RemoveDriversRequest__Output>
      RemoveDriversResponse: MessageTypeDefinition<_faros_v1_RemoveDriversResponse, _faros_v1_RemoveDriversResponse__Output>
      SnappedPoint: MessageTypeDefinition<_faros_v1_SnappedPoint, _faros_v1_SnappedPoint__Output>
      SnapshotChunk: MessageTypeDefinition<_faros_v1_SnapshotChunk, _faros_v1_SnapshotChunk__Output>
      StatusRequest: MessageTypeDefinition<_faros_v1_StatusRequest, _faros_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_faros_v1_StatusResponse, _faros_v1_StatusResponse__Output>
      StreamNearbyRequest: MessageTypeDefinition<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyRequest__Output>
      StreamNearbyResponse: MessageTypeDefinition<_faros_v1_StreamNearbyResponse, _faros_v1_StreamNearbyResponse__Output>
      Tombstone: MessageTypeDefinition<_faros_v1_Tombstone, _faros_v1_Tombstone__Output>
      UpdateDriverRequest: MessageTypeDefinition<_faros_v1_UpdateDriverRequest, _faros_v1_UpdateDriverRequest__Output>
      UpdateDriverResponse: MessageTypeDefinition<_faros_v1_UpdateDriverResponse, _faros_v1_UpdateDriverResponse__Output>
      UpdateDriversRequest: MessageTypeDefinition<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversRequest__Output>
      UpdateDriversResponse: MessageTypeDefinition<_faros_v1_UpdateDriversResponse, _faros_v1_UpdateDriversResponse__Output>
      UpdateError: MessageTypeDefinition<_faros_v1_UpdateError, _faros_v1_UpdateError__Output>
      UpdateOutcome: MessageTypeDefinition<_faros_v1_UpdateOutcome, _faros_v1_UpdateOutcome__Output>
      WatchLocalRequest: MessageTypeDefinition<_faros_v1_WatchLocalRequest, _faros_v1_WatchLocalRequest__Output>
      WatchNearbyRequest: MessageTypeDefinition<_faros_v1_WatchNearbyRequest, _faros_v1_WatchNearbyRequest__Output>
      WriteAck: EnumTypeDefinition
    }
  }
}


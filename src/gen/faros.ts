import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Bounds as _faros_v1_Bounds, Bounds__Output as _faros_v1_Bounds__Output } from './faros/v1/Bounds.js';
import type { Driver as _faros_v1_Driver, Driver__Output as _faros_v1_Driver__Output } from './faros/v1/Driver.js';
import type { FarosClient as _faros_v1_FarosClient, FarosDefinition as _faros_v1_FarosDefinition } from './faros/v1/Faros.js';
import type { GetDriverRequest as _faros_v1_GetDriverRequest, GetDriverRequest__Output as _faros_v1_GetDriverRequest__Output } from './faros/v1/GetDriverRequest.js';
import type { GetDriverResponse as _faros_v1_GetDriverResponse, GetDriverResponse__Output as _faros_v1_GetDriverResponse__Output } from './faros/v1/GetDriverResponse.js';
import type { LatLng as _faros_v1_LatLng, LatLng__Output as _faros_v1_LatLng__Output } from './faros/v1/LatLng.js';
import type { ListMapsRequest as _faros_v1_ListMapsRequest, ListMapsRequest__Output as _faros_v1_ListMapsRequest__Output } from './faros/v1/ListMapsRequest.js';
import type { ListMapsResponse as _faros_v1_ListMapsResponse, ListMapsResponse__Output as _faros_v1_ListMapsResponse__Output } from './faros/v1/ListMapsResponse.js';
import type { MapInfo as _faros_v1_MapInfo, MapInfo__Output as _faros_v1_MapInfo__Output } from './faros/v1/MapInfo.js';
import type { NearbyBatchRequest as _faros_v1_NearbyBatchRequest, NearbyBatchRequest__Output as _faros_v1_NearbyBatchRequest__Output } from './faros/v1/NearbyBatchRequest.js';
import type { NearbyBatchResponse as _faros_v1_NearbyBatchResponse, NearbyBatchResponse__Output as _faros_v1_NearbyBatchResponse__Output } from './faros/v1/NearbyBatchResponse.js';
import type { NearbyDriver as _faros_v1_NearbyDriver, NearbyDriver__Output as _faros_v1_NearbyDriver__Output } from './faros/v1/NearbyDriver.js';
import type { NearbyRequest as _faros_v1_NearbyRequest, NearbyRequest__Output as _faros_v1_NearbyRequest__Output } from './faros/v1/NearbyRequest.js';
import type { NearbyResponse as _faros_v1_NearbyResponse, NearbyResponse__Output as _faros_v1_NearbyResponse__Output } from './faros/v1/NearbyResponse.js';
import type { NearbyResult as _faros_v1_NearbyResult, NearbyResult__Output as _faros_v1_NearbyResult__Output } from './faros/v1/NearbyResult.js';
import type { NearbyStats as _faros_v1_NearbyStats, NearbyStats__Output as _faros_v1_NearbyStats__Output } from './faros/v1/NearbyStats.js';
import type { RemoveDriverRequest as _faros_v1_RemoveDriverRequest, RemoveDriverRequest__Output as _faros_v1_RemoveDriverRequest__Output } from './faros/v1/RemoveDriverRequest.js';
import type { RemoveDriverResponse as _faros_v1_RemoveDriverResponse, RemoveDriverResponse__Output as _faros_v1_RemoveDriverResponse__Output } from './faros/v1/RemoveDriverResponse.js';
import type { SnappedPoint as _faros_v1_SnappedPoint, SnappedPoint__Output as _faros_v1_SnappedPoint__Output } from './faros/v1/SnappedPoint.js';
import type { StreamNearbyRequest as _faros_v1_StreamNearbyRequest, StreamNearbyRequest__Output as _faros_v1_StreamNearbyRequest__Output } from './faros/v1/StreamNearbyRequest.js';
import type { StreamNearbyResponse as _faros_v1_StreamNearbyResponse, StreamNearbyResponse__Output as _faros_v1_StreamNearbyResponse__Output } from './faros/v1/StreamNearbyResponse.js';
import type { UpdateDriverRequest as _faros_v1_UpdateDriverRequest, UpdateDriverRequest__Output as _faros_v1_UpdateDriverRequest__Output } from './faros/v1/UpdateDriverRequest.js';
import type { UpdateDriverResponse as _faros_v1_UpdateDriverResponse, UpdateDriverResponse__Output as _faros_v1_UpdateDriverResponse__Output } from './faros/v1/UpdateDriverResponse.js';
import type { UpdateDriversRequest as _faros_v1_UpdateDriversRequest, UpdateDriversRequest__Output as _faros_v1_UpdateDriversRequest__Output } from './faros/v1/UpdateDriversRequest.js';
import type { UpdateDriversResponse as _faros_v1_UpdateDriversResponse, UpdateDriversResponse__Output as _faros_v1_UpdateDriversResponse__Output } from './faros/v1/UpdateDriversResponse.js';
import type { UpdateError as _faros_v1_UpdateError, UpdateError__Output as _faros_v1_UpdateError__Output } from './faros/v1/UpdateError.js';
import type { WatchNearbyRequest as _faros_v1_WatchNearbyRequest, WatchNearbyRequest__Output as _faros_v1_WatchNearbyRequest__Output } from './faros/v1/WatchNearbyRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  faros: {
    v1: {
      Bounds: MessageTypeDefinition<_faros_v1_Bounds, _faros_v1_Bounds__Output>
      Driver: MessageTypeDefinition<_faros_v1_Driver, _faros_v1_Driver__Output>
      Faros: SubtypeConstructor<typeof grpc.Client, _faros_v1_FarosClient> & { service: _faros_v1_FarosDefinition }
      GetDriverRequest: MessageTypeDefinition<_faros_v1_GetDriverRequest, _faros_v1_GetDriverRequest__Output>
      GetDriverResponse: MessageTypeDefinition<_faros_v1_GetDriverResponse, _faros_v1_GetDriverResponse__Output>
      LatLng: MessageTypeDefinition<_faros_v1_LatLng, _faros_v1_LatLng__Output>
      ListMapsRequest: MessageTypeDefinition<_faros_v1_ListMapsRequest, _faros_v1_ListMapsRequest__Output>
      ListMapsResponse: MessageTypeDefinition<_faros_v1_ListMapsResponse, _faros_v1_ListMapsResponse__Output>
      MapInfo: MessageTypeDefinition<_faros_v1_MapInfo, _faros_v1_MapInfo__Output>
      Metric: EnumTypeDefinition
      NearbyBatchRequest: MessageTypeDefinition<_faros_v1_NearbyBatchRequest, _faros_v1_NearbyBatchRequest__Output>
      NearbyBatchResponse: MessageTypeDefinition<_faros_v1_NearbyBatchResponse, _faros_v1_NearbyBatchResponse__Output>
      NearbyDriver: MessageTypeDefinition<_faros_v1_NearbyDriver, _faros_v1_NearbyDriver__Output>
      NearbyRequest: MessageTypeDefinition<_faros_v1_NearbyRequest, _faros_v1_NearbyRequest__Output>
      NearbyResponse: MessageTypeDefinition<_faros_v1_NearbyResponse, _faros_v1_NearbyResponse__Output>
      NearbyResult: MessageTypeDefinition<_faros_v1_NearbyResult, _faros_v1_NearbyResult__Output>
      NearbyStats: MessageTypeDefinition<_faros_v1_NearbyStats, _faros_v1_NearbyStats__Output>
      RemoveDriverRequest: MessageTypeDefinition<_faros_v1_RemoveDriverRequest, _faros_v1_RemoveDriverRequest__Output>
      RemoveDriverResponse: MessageTypeDefinition<_faros_v1_RemoveDriverResponse, _faros_v1_RemoveDriverResponse__Output>
      SnappedPoint: MessageTypeDefinition<_faros_v1_SnappedPoint, _faros_v1_SnappedPoint__Output>
      StreamNearbyRequest: MessageTypeDefinition<_faros_v1_StreamNearbyRequest, _faros_v1_StreamNearbyRequest__Output>
      StreamNearbyResponse: MessageTypeDefinition<_faros_v1_StreamNearbyResponse, _faros_v1_StreamNearbyResponse__Output>
      UpdateDriverRequest: MessageTypeDefinition<_faros_v1_UpdateDriverRequest, _faros_v1_UpdateDriverRequest__Output>
      UpdateDriverResponse: MessageTypeDefinition<_faros_v1_UpdateDriverResponse, _faros_v1_UpdateDriverResponse__Output>
      UpdateDriversRequest: MessageTypeDefinition<_faros_v1_UpdateDriversRequest, _faros_v1_UpdateDriversRequest__Output>
      UpdateDriversResponse: MessageTypeDefinition<_faros_v1_UpdateDriversResponse, _faros_v1_UpdateDriversResponse__Output>
      UpdateError: MessageTypeDefinition<_faros_v1_UpdateError, _faros_v1_UpdateError__Output>
      WatchNearbyRequest: MessageTypeDefinition<_faros_v1_WatchNearbyRequest, _faros_v1_WatchNearbyRequest__Output>
      WriteAck: EnumTypeDefinition
    }
  }
}


// The client's request and response types, from the types generated from the
// proto (src/gen): requests take the permissive input shape (int64 as number
// or string, enums by name or number), answers are the objects proto-loader
// decodes (int64 as decimal strings, enums by name, every field present, a
// missing message field null).
export type { Bounds__Output as Bounds } from '../gen/faros/v1/Bounds.js';
export type { Driver__Output as Driver } from '../gen/faros/v1/Driver.js';
export type { GetDriverRequest } from '../gen/faros/v1/GetDriverRequest.js';
export type { GetDriverResponse__Output as GetDriverResponse } from '../gen/faros/v1/GetDriverResponse.js';
export type { LatLng } from '../gen/faros/v1/LatLng.js';
export type { ListMapsResponse__Output as ListMapsResponse } from '../gen/faros/v1/ListMapsResponse.js';
export type { MapInfo__Output as MapInfo } from '../gen/faros/v1/MapInfo.js';
export type { Metric } from '../gen/faros/v1/Metric.js';
export type { NearbyBatchRequest } from '../gen/faros/v1/NearbyBatchRequest.js';
export type { NearbyBatchResponse__Output as NearbyBatchResponse } from '../gen/faros/v1/NearbyBatchResponse.js';
export type { NearbyDriver__Output as NearbyDriver } from '../gen/faros/v1/NearbyDriver.js';
export type { NearbyRequest } from '../gen/faros/v1/NearbyRequest.js';
export type { NearbyResponse__Output as NearbyResponse } from '../gen/faros/v1/NearbyResponse.js';
export type { NearbyResult__Output as NearbyResult } from '../gen/faros/v1/NearbyResult.js';
export type { NearbyStats__Output as NearbyStats } from '../gen/faros/v1/NearbyStats.js';
export type { RemoveDriverRequest } from '../gen/faros/v1/RemoveDriverRequest.js';
export type { RemoveDriverResponse__Output as RemoveDriverResponse } from '../gen/faros/v1/RemoveDriverResponse.js';
export type { SnappedPoint__Output as SnappedPoint } from '../gen/faros/v1/SnappedPoint.js';
export type { UpdateDriverRequest } from '../gen/faros/v1/UpdateDriverRequest.js';
export type { UpdateDriverResponse__Output as UpdateDriverResponse } from '../gen/faros/v1/UpdateDriverResponse.js';
export type { UpdateDriversRequest } from '../gen/faros/v1/UpdateDriversRequest.js';
export type { UpdateDriversResponse__Output as UpdateDriversResponse } from '../gen/faros/v1/UpdateDriversResponse.js';
export type { WatchNearbyRequest } from '../gen/faros/v1/WatchNearbyRequest.js';
export type { WriteAck } from '../gen/faros/v1/WriteAck.js';

// Original file: proto/faros/v1/faros.proto

import type { MapInfo as _faros_v1_MapInfo, MapInfo__Output as _faros_v1_MapInfo__Output } from '../../faros/v1/MapInfo.js';

export interface ListMapsResponse {
  'maps'?: (_faros_v1_MapInfo)[];
}

export interface ListMapsResponse__Output {
  'maps': (_faros_v1_MapInfo__Output)[];
}

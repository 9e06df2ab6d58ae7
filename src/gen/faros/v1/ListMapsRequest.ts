// Original file: proto/faros/v1/faros.proto


export interface ListMapsRequest {
}

export interface ListMapsRequest__Output {
}

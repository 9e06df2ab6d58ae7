// Original file: proto/faros/v1/peer.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}

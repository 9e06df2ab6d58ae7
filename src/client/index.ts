// `faros/client`: the public entry of the client library (docs/CLIENT.md).
export { FarosClient, type FarosClientOptions, type CallOptions } from './client.js';
export { FarosClientError, RETRYABLE, type StatusName } from './errors.js';
export { DEFAULT_RETRY, type RetryOptions } from './retry.js';
export type { TlsOptions } from './transport.js';
export { DriverUpdater, type UpdaterOptions, type RejectedUpdate, type UpdaterStats, type UpdaterEvents } from './updater.js';
export type { WatchOptions } from './watch.js';
export type * from './messages.js';

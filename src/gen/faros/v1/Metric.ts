// Original file: proto/faros/v1/faros.proto

export const Metric = {
  /**
   * = distance
   */
  METRIC_UNSPECIFIED: 'METRIC_UNSPECIFIED',
  METRIC_DISTANCE: 'METRIC_DISTANCE',
  METRIC_ETA: 'METRIC_ETA',
} as const;

export type Metric =
  /**
   * = distance
   */
  | 'METRIC_UNSPECIFIED'
  | 0
  | 'METRIC_DISTANCE'
  | 1
  | 'METRIC_ETA'
  | 2

export type Metric__Output = typeof Metric[keyof typeof Metric]

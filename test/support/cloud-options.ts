import type { StartOptions } from '../../infra/local/cloud.ts';

/** How the tests run a local cloud: retries and redelivery in fractions of a second, schedules fired by the tests. */
export const TEST_CLOUD_OPTIONS = {
  retryIntervalScale: 0.05,
  schedules: false,
  queueVisibilityTimeoutSeconds: 2,
  // S3's smallest part is 5 MiB: uploads over 6 MiB go multipart, so tests exercise it with small files.
  settings: { multipartThresholdBytes: 6 * 1024 * 1024, multipartPartBytes: 5 * 1024 * 1024 },
} as const satisfies StartOptions;

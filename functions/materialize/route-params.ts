// What every materialize-api route checks the same way: the datastack named in its path, and that a bucket it is
// asked to read is one this function may read.
import { z } from 'zod';
import { config } from '../lib/config.ts';
import { badRequest } from '../lib/errors.ts';
import { DATASTACK } from './bulk.ts';

export const DatastackParams = z.object({
  datastack: z.string().regex(DATASTACK, 'a datastack is a plain identifier: a-z first, then a-z, 0-9 or _, at most 40 characters'),
});

/** Only buckets the topology declares and grants materialize-api (for now, the media bucket). */
export function assertReadableBucket(bucket: string): void {
  if (bucket !== config.mediaBucket()) throw badRequest(`bucket ${bucket} is not one Framewise reads from`, { bucket, allowed: [config.mediaBucket()] });
}

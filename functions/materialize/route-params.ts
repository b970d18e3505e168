// What every materialize-api route checks the same way: the datastack named in its path, and that an input it is
// asked to read lies where materialization may read.
import { z } from 'zod';
import { config } from '../lib/config.ts';
import { badRequest } from '../lib/errors.ts';
import { DATASTACK } from './datastack.ts';

export const DatastackParams = z.object({
  datastack: z.string().regex(DATASTACK, 'a datastack is a plain identifier: a-z first, then a-z, 0-9 or _, at most 40 characters'),
});

/** The folder of the media bucket that holds materialization inputs: the only keys the materialize functions may read. */
export const MATERIALIZE_INPUTS = 'materialize/';

/**
 * An input a route is asked to read: in a bucket the topology grants materialize-api (for now, the media bucket),
 * and under materialize/ of it. `field` names the body field: a `prefix` names a folder (`materialize/x` and
 * `materialize/x/` are the same), a `key` one object.
 */
export function assertReadableInput(bucket: string, field: 'prefix' | 'key', value: string): void {
  if (bucket !== config.mediaBucket()) throw badRequest(`bucket ${bucket} is not one Framewise reads from`, { bucket, allowed: [config.mediaBucket()] });
  const path = field === 'prefix' ? `${value.replace(/\/+$/, '')}/` : value;
  if (!path.startsWith(MATERIALIZE_INPUTS)) {
    throw badRequest(`${field} ${JSON.stringify(value)} is not under ${MATERIALIZE_INPUTS}: materialization reads its inputs only from keys under ${MATERIALIZE_INPUTS} of bucket ${bucket}`, {
      [field]: value,
      allowedPrefix: MATERIALIZE_INPUTS,
    });
  }
}

// materialize-expire-versions (schedule expire-datastack-versions): drops the frozen versions the retention
// policy gives up (lifecycle.ts): expired ones, oldest first, but never a datastack's newest valid version and
// never below `keepVersions` valid versions. The registry keeps each as 'expired' (a read of it is a 410).
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { taskHandler } from '../../lib/task.ts';
import { removeExpiredVersions } from './store.ts';
import { DEFAULT_KEEP_VERSIONS } from './lifecycle.ts';

const Input = z.object({ keepVersions: z.coerce.number().int().min(1).default(DEFAULT_KEEP_VERSIONS) });

export const handler = taskHandler(Input, async ({ keepVersions }) => {
  const removed = await removeExpiredVersions({ now: new Date(), keep: keepVersions });
  logger.info('expired versions removed', { removed, keepVersions });
  return { removed, keepVersions };
});

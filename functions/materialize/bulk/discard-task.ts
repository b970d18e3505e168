// materialize-discard (bulk-upload, after any failed step): drops the upload's staging tables and forgets its chunks.
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { taskHandler } from '../../lib/task.ts';
import { DATASTACK } from '../datastack.ts';
import { discardUpload } from './upload.ts';

const Input = z.object({ jobId: z.string().min(1), datastack: z.string().regex(DATASTACK), table: z.string().min(1), uploadId: z.string().min(1) });

export const handler = taskHandler(Input, async ({ jobId, datastack, table, uploadId }) => {
  logger.appendKeys({ jobId, datastack, table });
  const discarded = await discardUpload(datastack, table, uploadId);
  logger.info(discarded ? 'failed bulk upload discarded' : 'failed bulk upload left nothing to discard');
  return { discarded };
});

// materialize-prepare (first Task of bulk-upload): ledger and staging tables, the chunk plan.
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { stepTask } from '../../jobs/step-task.ts';
import { DATASTACK } from '../datastack.ts';
import { MappingText, prepareUpload } from './upload.ts';

const Input = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  uploadId: z.string().min(1),
  bucket: z.string().min(1),
  prefix: z.string().min(1),
  table: z.string().min(1),
  schema: z.string().min(1),
  columnMapping: MappingText,
  chunkRows: z.coerce.number().int().min(1),
});

const steps = {
  step: 'prepare',
  subject: ({ datastack, table }: { datastack: string; table: string }) => ({ datastack, table }),
  next: ({ chunks }: { chunks: readonly unknown[] }) => ({ step: 'load', parts: chunks.length }) as const,
} as const;

export const handler = stepTask(Input, steps, async ({ jobId: _jobId, uploadId, chunkRows, ...req }) => {
  const prepared = await prepareUpload(req, uploadId, chunkRows);
  logger.info('bulk upload prepared', { chunks: prepared.chunks.length, files: prepared.files.length });
  return prepared;
});

// materialize-create-version (Task of materialize-version): makes the job's frozen version of the datastack,
// once; a retried or repeated task returns the version its job already made.
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { stepTask } from '../../jobs/step-task.ts';
import { DATASTACK } from '../datastack.ts';
import { createVersion } from './store.ts';
import { DEFAULT_EXPIRES_IN_DAYS, MAX_EXPIRES_IN_DAYS, VERSION_CADENCES } from './lifecycle.ts';

const Input = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  /** A number, or its text as job inputs carry it. */
  expiresInDays: z.coerce.number().int().min(1).max(MAX_EXPIRES_IN_DAYS).default(DEFAULT_EXPIRES_IN_DAYS),
  cadence: z.enum(VERSION_CADENCES).default('manual'),
});

export const handler = stepTask(Input, { step: 'create-version', subject: ({ datastack }) => ({ datastack }) }, async ({ jobId, datastack, expiresInDays, cadence }) => {
  const { version, tables } = await createVersion({ datastack, cadence, expiresInDays, jobId });
  logger.info('version created', { version, tables, cadence, expiresInDays });
  return { version, tables };
});

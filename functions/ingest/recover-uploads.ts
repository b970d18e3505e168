// ingest-recover-uploads (schedule recover-uploads): starts the ingest of uploads whose object arrived without a
// job (recovery.ts).
import { z } from 'zod';
import { taskHandler } from '../lib/task.ts';
import { DEFAULT_GRACE_SECONDS, sweepUploads } from './recovery.ts';

const Input = z.object({ graceSeconds: z.coerce.number().int().min(0).default(DEFAULT_GRACE_SECONDS) });

export const handler = taskHandler(Input, (input) => sweepUploads(input));

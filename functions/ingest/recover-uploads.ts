// ingest-recover-uploads (schedule recover-uploads): starts the ingest of uploads whose object arrived without a
// job (recovery.ts), and the re-runs whose archived video is readable again without a notification taken (restore.ts).
import { z } from 'zod';
import { taskHandler } from '../lib/task.ts';
import { DEFAULT_GRACE_SECONDS, sweepUploads } from './recovery.ts';
import { sweepWaitingRuns } from './restore.ts';

const Input = z.object({ graceSeconds: z.coerce.number().int().min(0).default(DEFAULT_GRACE_SECONDS) });

export const handler = taskHandler(Input, async (input) => ({ ...(await sweepUploads(input)), restores: await sweepWaitingRuns() }));

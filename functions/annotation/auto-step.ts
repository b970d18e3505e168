// annotation-auto (Task of annotation-content, after the tasks): for request types 1 and 2, the prediction set of
// the requested version is applied onto the upload's frames as auto annotations; request type 0 passes.
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { TaskError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { applyPredictions } from './auto-annotations.ts';
import { raiseProgress, requireUpload } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), uploadId: z.uuid() });

const steps = { step: 'auto-annotations', after: 'tasks', subject: ({ uploadId }: { uploadId: string }) => ({ uploadId }) } as const;

export const handler = stepTask(Input, steps, async ({ jobId, uploadId }) => {
  const upload = await requireUpload(uploadId);
  if (upload.jobId !== jobId || !upload.request) throw new TaskError('StaleRequest', `upload ${uploadId} is now processed by job ${upload.jobId ?? 'none'}`);
  const { requestType, autoAnnoVersion } = upload.request;
  if (requestType === 0 || autoAnnoVersion === 0) return { applied: false };
  const applied = await applyPredictions(uploadId, autoAnnoVersion);
  await raiseProgress(uploadId, jobId, 98);
  logger.info('auto annotations applied', { version: autoAnnoVersion, ...applied });
  return { applied: true, version: autoAnnoVersion, ...applied };
});

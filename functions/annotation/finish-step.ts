// annotation-finish (Task of annotation-content): tasks a regeneration no longer has are removed, and the upload's
// processing is completed (status 1, progress 100).
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { TaskError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { completeProcessing, countGeneratedTasks, deleteTasksFrom, requireUpload } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), uploadId: z.uuid() });

export const handler = stepTask(Input, { step: 'finish', subject: ({ uploadId }) => ({ uploadId }) }, async ({ jobId, uploadId }) => {
  const upload = await requireUpload(uploadId);
  if (upload.jobId !== jobId || !upload.request) throw new TaskError('StaleRequest', `upload ${uploadId} is now processed by job ${upload.jobId ?? 'none'}`);
  const taskCount = upload.taskCount ?? 0;
  let removed = 0;
  if (upload.request.requestType !== 2) {
    // Every planned task must be generated: a Map that lost an item would otherwise pass as complete.
    const generated = await countGeneratedTasks(uploadId, jobId);
    if (generated !== taskCount) throw new TaskError('TasksMissing', `${generated} of ${taskCount} tasks were generated`);
    removed = await deleteTasksFrom(uploadId, taskCount);
  }
  await completeProcessing(uploadId, jobId, upload.request.requestType !== 2);
  logger.info('annotation content processed', { taskCount, removed });
  return { uploadId, taskCount, frameCount: upload.frameCount ?? 0, removedTasks: removed };
});

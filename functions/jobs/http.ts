// jobs-api: operators follow jobs by state and requeue failed ones.
import { z } from 'zod';
import { httpHandler, ok, parse, type Routes } from '../lib/http.ts';
import { conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { JOB_STATES } from './job.ts';
import { assertRequeueable, listJobs, moveJob, requireJob, setExecution } from './store.ts';
import { startVideoIngest } from './workflow.ts';

const ListQuery = z.object({
  state: z.enum(JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional(),
});

export const routes: Routes = {
  'GET /v1/jobs': {
    roles: ['analyst'],
    handle: async (req) => ok(await listJobs(parse(ListQuery, req.query))),
  },
  'GET /v1/jobs/{id}': {
    roles: ['analyst'],
    handle: async (req) => ok(await requireJob(req.params.id!)),
  },
  'POST /v1/jobs/{id}/requeue': {
    roles: [],
    handle: async (req) => {
      const job = await requireJob(req.params.id!);
      assertRequeueable(job);
      const queued = await moveJob(job.jobId, 'queued', { countRequeue: true, resetAttempts: true });
      if (!queued) throw conflict(`job ${job.jobId} changed while it was being requeued; try again`);
      const executionArn = await startVideoIngest(queued);
      await setExecution(job.jobId, executionArn);
      logger.info('job requeued', { jobId: job.jobId, executionArn });
      return ok({ ...queued, executionArn });
    },
  },
};

export const handler = httpHandler(routes);

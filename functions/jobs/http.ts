// jobs-api: operators follow jobs by state or video (and what waits to be released), and requeue failed jobs.
import { z } from 'zod';
import { httpHandler } from '../lib/http.ts';
import { defineRoute, routeTable } from '../lib/route.ts';
import { conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { JOB_ID, JOB_KINDS, JOB_STATES, type Job, type JobKind } from './job.ts';
import { unreleasedDetGroups } from '../catalog/det-group-release.ts';
import { unreleasedVideos } from '../catalog/video-lifecycle.ts';
import { assertRequeueable, listJobs, moveJob, requireJob } from './store.ts';
import { JobPage, JobSchema } from './schemas.ts';
import { startJob } from './workflow.ts';

const ListQuery = z.object({
  /** `releasable`: succeeded jobs whose results wait to be released. */
  state: z.enum([...JOB_STATES, 'releasable']).optional(),
  videoId: z.uuid().optional(),
  kind: z.enum(JOB_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional(),
});
const JobParams = z.object({ id: z.string().regex(JOB_ID, 'not a job id: a-z first, then a-z, 0-9, _ or -, at most 128 characters') });

/** Succeeded jobs whose subject (a video, a det_group) waits to be released; the newest run stands for it. */
async function listReleasable(limit: number, cursor?: string, kind?: JobKind): Promise<{ jobs: Job[]; cursor?: string }> {
  const page = await listJobs({ state: 'succeeded', kind, limit, cursor });
  const subject = (j: Job) => j.videoId ?? j.detGroupId ?? '';
  const [videos, detGroups] = await Promise.all([
    unreleasedVideos(page.jobs.flatMap((j) => (j.kind === 'video-ingest' && j.videoId ? [j.videoId] : []))),
    unreleasedDetGroups(page.jobs.flatMap((j) => (j.kind === 'det-group' && j.detGroupId ? [j.detGroupId] : []))),
  ]);
  const seen = new Set<string>();
  const jobs = page.jobs.filter((j) => (videos.has(subject(j)) || detGroups.has(subject(j))) && !seen.has(subject(j)) && seen.add(subject(j)));
  return { jobs, ...(page.cursor && { cursor: page.cursor }) };
}

export const jobsRoutes = [
  defineRoute({
    key: 'GET /v1/jobs', tag: 'jobs', roles: ['analyst'],
    summary: 'List jobs by state, video and kind, newest change first',
    description:
      '`state=releasable`: succeeded jobs whose video or det_group waits to be released (the newest run of each). Pages: pass cursor. ' +
      '`kind` filters each page as it is read, so a page may hold fewer jobs than `limit`, even none, and still have a cursor.',
    query: ListQuery, response: JobPage, errors: [],
    handle: ({ query }) => (query.state === 'releasable' ? listReleasable(query.limit, query.cursor, query.kind) : listJobs({ ...query, state: query.state })),
  }),
  defineRoute({
    key: 'GET /v1/jobs/{id}', tag: 'jobs', roles: ['analyst'],
    summary: 'A job with its steps, attempts, error and result',
    params: JobParams, response: JobSchema,
    handle: ({ params }) => requireJob(params.id),
  }),
  defineRoute({
    key: 'POST /v1/jobs/{id}/requeue', tag: 'jobs', roles: [],
    summary: 'Run a failed job again from its first unfinished step',
    params: JobParams, response: JobSchema, status: 200,
    handle: async ({ params }) => {
      const job = await requireJob(params.id);
      assertRequeueable(job);
      const queued = await moveJob(job.jobId, 'queued', { countRequeue: true, resetStepsOf: job.kind });
      if (!queued) throw conflict(`job ${job.jobId} changed while it was being requeued; try again`);
      logger.info('job requeued', { jobId: job.jobId });
      return startJob(queued);
    },
  }),
];

export const routes = routeTable(jobsRoutes);
export const handler = httpHandler(routes);

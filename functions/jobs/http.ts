// jobs-api: operators follow jobs by state or video, start a video's ingest again, requeue failed jobs and
// release computed results to clients.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { httpHandler } from '../lib/http.ts';
import { defineRoute, routeTable } from '../lib/route.ts';
import { config } from '../lib/config.ts';
import { conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { recoverUpload } from '../ingest/recovery.ts';
import { getIngestVideo } from '../ingest/videos.ts';
import { JOB_ID, JOB_STATES, type Job } from './job.ts';
import { releaseDetGroup, releaseVideo, unreleasedDetGroups, unreleasedVideos } from './release.ts';
import { assertRequeueable, listJobs, moveJob, requireJob } from './store.ts';
import { JobPage, JobSchema, Released } from './schemas.ts';
import { createAndStartJob, startJob } from './workflow.ts';

const ListQuery = z.object({
  /** `releasable`: succeeded jobs whose results wait to be released. */
  state: z.enum([...JOB_STATES, 'releasable']).optional(),
  videoId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().optional(),
});
const IdParams = z.object({ id: z.uuid() });
const JobParams = z.object({ id: z.string().regex(JOB_ID, 'not a job id: a-z first, then a-z, 0-9, _ or -, at most 128 characters') });
const IngestBody = z.strictObject({ force: z.boolean().default(false) }).default({ force: false });

/** Succeeded jobs whose subject (a video, a det_group) waits to be released; the newest run stands for it. */
async function listReleasable(limit: number, cursor?: string): Promise<{ jobs: Job[]; cursor?: string }> {
  const page = await listJobs({ state: 'succeeded', limit, cursor });
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
    summary: 'List jobs by state or video, newest change first',
    description: '`state=releasable`: succeeded jobs whose video or det_group waits to be released (the newest run of each). Pages: pass cursor.',
    query: ListQuery, response: JobPage, errors: [],
    handle: ({ query }) => (query.state === 'releasable' ? listReleasable(query.limit, query.cursor) : listJobs({ ...query, state: query.state })),
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
  defineRoute({
    key: 'POST /v1/videos/{id}/ingest', tag: 'jobs', roles: ['analyst'],
    summary: "Run a video's ingest again (or start it, when its upload's arrival was missed)",
    description: 'An ingested video needs `{ "force": true }`; its results are replaced when the new run succeeds.',
    params: IdParams, body: IngestBody, response: JobSchema,
    handle: async ({ params: { id }, body: { force } }) => {
      const video = await getIngestVideo(id);
      // An upload whose object is in storage but whose arrival was never taken (a lost notification) starts now.
      if (video.status === 'uploading') return recoverUpload(video);
      if (!video.s3Key || video.status === 'created') throw conflict(`video ${id} has not been uploaded`, { status: video.status });
      if (video.status === 'ingested' && !force) throw conflict(`video ${id} is already ingested: pass { "force": true } to replace its results`);
      const running = await listJobs({ videoId: id, limit: 20 });
      const active = running.jobs.find((j) => j.state === 'queued' || j.state === 'working');
      if (active) throw conflict(`video ${id} is being ingested by job ${active.jobId}`, { jobId: active.jobId });
      const jobId = `ingest-${id}-${randomUUID().slice(0, 8)}`;
      const { job } = await createAndStartJob({ jobId, kind: 'video-ingest', videoId: id, input: { bucket: config.mediaBucket(), key: video.s3Key } });
      return job;
    },
  }),
  defineRoute({
    key: 'POST /v1/videos/{id}/release', tag: 'jobs', roles: [],
    summary: "Release a video's results to the clients of its det_groups",
    params: IdParams, response: Released('videoId'), status: 200,
    handle: ({ params }) => releaseVideo(params.id),
  }),
  defineRoute({
    key: 'POST /v1/det-groups/{id}/release', tag: 'jobs', roles: [],
    summary: "Release a det_group's results to its clients",
    params: IdParams, response: Released('detGroupId'), status: 200,
    handle: ({ params }) => releaseDetGroup(params.id),
  }),
];

export const routes = routeTable(jobsRoutes);
export const handler = httpHandler(routes);

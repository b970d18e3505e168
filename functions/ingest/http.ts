// ingest-api: an operator starts a video's ingest again, or starts it when its upload's arrival was missed.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { httpHandler } from '../lib/http.ts';
import { logger } from '../lib/logger.ts';
import { defineRoute, Reply, routeTable } from '../lib/route.ts';
import { config } from '../lib/config.ts';
import { conflict } from '../lib/errors.ts';
import { getVideoState } from '../catalog/video-lifecycle.ts';
import { JobSchema } from '../jobs/schemas.ts';
import { listJobs } from '../jobs/store.ts';
import { createAndStartJob, createWaitingJob } from '../jobs/workflow.ts';
import { recoverUpload } from './recovery.ts';
import { headSource, requestRestore, RESTORE_TIERS } from './restore.ts';

const IdParams = z.object({ id: z.uuid() });
const IngestBody = z
  .strictObject({
    force: z.boolean().default(false),
    restoreTier: z.enum(RESTORE_TIERS).default('Standard').openapi({
      description: 'How fast an archived source video is restored before the run: Standard (within 12 hours) or Bulk (within 48 hours, an eighth of the price)',
    }),
  })
  .default({ force: false, restoreTier: 'Standard' });

export const ingestRoutes = [
  defineRoute({
    key: 'POST /v1/videos/{id}/ingest', tag: 'jobs', roles: ['analyst'],
    summary: "Run a video's ingest again (or start it, when its upload's arrival was missed)",
    description:
      'An ingested video needs `{ "force": true }`; its results are replaced when the new run succeeds. Answers 201 with the ' +
      'job started, or, when the source video is archived (Deep Archive, a day after its upload), 202 with a job queued with ' +
      '`waitsFor: "source-restore"`: its restore is asked for (`restoreTier`) and the run starts when it completes (hours in AWS).',
    params: IdParams, body: IngestBody, response: JobSchema, errors: [404, 409],
    otherSuccesses: { 202: 'Accepted: the source video is archived; the job is queued with `waitsFor: "source-restore"` and starts when its restore completes' },
    handle: async ({ params: { id }, body: { force, restoreTier } }) => {
      const video = await getVideoState(id);
      // An upload whose object is in storage but whose arrival was never taken (a lost notification) starts now.
      if (video.status === 'uploading') return recoverUpload(video);
      if (!video.s3Key || video.status === 'created') throw conflict(`video ${id} has not been uploaded`, { status: video.status });
      if (video.status === 'ingested' && !force) throw conflict(`video ${id} is already ingested: pass { "force": true } to replace its results`);
      const running = await listJobs({ videoId: id, limit: 20 });
      const active = running.jobs.find((j) => j.state === 'queued' || j.state === 'working');
      if (active?.waitsFor) throw conflict(`video ${id} has a re-run waiting for its source's restore: job ${active.jobId}`, { jobId: active.jobId });
      if (active) throw conflict(`video ${id} is being ingested by job ${active.jobId}`, { jobId: active.jobId });
      const jobId = `ingest-${id}-${randomUUID().slice(0, 8)}`;
      const bucket = config.mediaBucket();
      const source = await headSource(bucket, video.s3Key);
      if (source && source.state !== 'readable') {
        if (source.state === 'archived') await requestRestore(bucket, video.s3Key, restoreTier);
        const job = await createWaitingJob({ jobId, kind: 'video-ingest', videoId: id, input: { bucket, key: video.s3Key, restoreTier } }, 'source-restore');
        logger.info("re-run waits for its source's restore", { videoId: id, jobId, storageClass: source.storageClass, restoreTier });
        return new Reply({ status: 202, body: job });
      }
      const { job } = await createAndStartJob({ jobId, kind: 'video-ingest', videoId: id, input: { bucket, key: video.s3Key } });
      return job;
    },
  }),
];

export const routes = routeTable(ingestRoutes);
export const handler = httpHandler(routes);

// ingest-api: an operator starts a video's ingest again, or starts it when its upload's arrival was missed.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { httpHandler } from '../lib/http.ts';
import { defineRoute, routeTable } from '../lib/route.ts';
import { config } from '../lib/config.ts';
import { conflict } from '../lib/errors.ts';
import { getVideoState } from '../catalog/video-lifecycle.ts';
import { JobSchema } from '../jobs/schemas.ts';
import { listJobs } from '../jobs/store.ts';
import { createAndStartJob } from '../jobs/workflow.ts';
import { recoverUpload } from './recovery.ts';

const IdParams = z.object({ id: z.uuid() });
const IngestBody = z.strictObject({ force: z.boolean().default(false) }).default({ force: false });

export const ingestRoutes = [
  defineRoute({
    key: 'POST /v1/videos/{id}/ingest', tag: 'jobs', roles: ['analyst'],
    summary: "Run a video's ingest again (or start it, when its upload's arrival was missed)",
    description: 'An ingested video needs `{ "force": true }`; its results are replaced when the new run succeeds.',
    params: IdParams, body: IngestBody, response: JobSchema,
    handle: async ({ params: { id }, body: { force } }) => {
      const video = await getVideoState(id);
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
];

export const routes = routeTable(ingestRoutes);
export const handler = httpHandler(routes);

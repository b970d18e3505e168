// ingest-metrics (last Task of video-ingest before the outcome): the metrics of this run (named by its job), for
// every det_group that applies to the video; analytics computes and stores them.
import { z } from 'zod';
import { computeIngestMetrics } from '../analytics/compute-video.ts';
import { stepTask } from '../jobs/step-task.ts';

const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid(), frameCount: z.number().int().min(0) });

export const handler = stepTask(Input, { step: 'metrics', after: 'frames', subject: ({ videoId }) => ({ videoId }) }, async ({ jobId, videoId, frameCount }) => ({
  detGroups: await computeIngestMetrics(videoId, jobId, frameCount),
}));

// ingest-plan (Task of video-ingest): splits frame extraction into segments that run in parallel.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { planSegments } from './segments.ts';
import { getIngestVideo } from './videos.ts';

/** About this much video per segment, and at most this many segments: the Map runs them in parallel. */
const SECONDS_PER_SEGMENT = 30;
const MAX_SEGMENTS = 8;

const Input = z.object({
  jobId: z.string().min(1),
  videoId: z.uuid(),
  probe: z.object({ streamDurationSeconds: z.number().positive(), streamStartSeconds: z.number(), fileStartSeconds: z.number() }),
});

export const handler = taskHandler(Input, async ({ jobId, videoId, probe }) => {
  logger.appendKeys({ jobId, videoId });
  await startStep(jobId, 'plan');
  const video = await getIngestVideo(videoId);
  const plan = planSegments({
    durationSeconds: probe.streamDurationSeconds,
    startTime: probe.streamStartSeconds,
    fileStartTime: probe.fileStartSeconds,
    fps: video.ingestFrameRate,
    segments: Math.min(MAX_SEGMENTS, Math.max(1, Math.ceil(probe.streamDurationSeconds / SECONDS_PER_SEGMENT))),
  });
  await finishStep(jobId, 'plan');
  await startStep(jobId, 'frames', plan.segments.length);
  logger.info('segments planned', { frameCount: plan.frameCount, segments: plan.segments.length, fps: plan.fps });
  return { fps: plan.fps, frameRate: video.ingestFrameRate, frameCount: plan.frameCount, segments: plan.segments };
});

// ingest-plan (Task of video-ingest): splits frame extraction into segments that run in parallel.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { stepTask } from '../jobs/step-task.ts';
import { planSegments, wantedSegments } from './segments.ts';
import { getVideoState } from '../catalog/video-lifecycle.ts';

const Input = z.object({
  jobId: z.string().min(1),
  videoId: z.uuid(),
  probe: z.object({ streamDurationSeconds: z.number().positive(), streamStartSeconds: z.number(), fileStartSeconds: z.number() }),
});

const steps = {
  step: 'plan',
  subject: ({ videoId }: { videoId: string }) => ({ videoId }),
  next: ({ segments }: { segments: readonly unknown[] }) => ({ step: 'frames', parts: segments.length }) as const,
} as const;

export const handler = stepTask(Input, steps, async ({ videoId, probe }) => {
  const video = await getVideoState(videoId);
  const plan = planSegments({
    durationSeconds: probe.streamDurationSeconds,
    startTime: probe.streamStartSeconds,
    fileStartTime: probe.fileStartSeconds,
    fps: video.ingestFrameRate,
    segments: wantedSegments(probe.streamDurationSeconds),
  });
  logger.info('segments planned', { frameCount: plan.frameCount, segments: plan.segments.length, fps: plan.fps });
  return { fps: plan.fps, frameRate: video.ingestFrameRate, frameCount: plan.frameCount, segments: plan.segments };
});

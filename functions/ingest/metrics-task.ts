// ingest-metrics (last Task of video-ingest before the outcome): computes every det_group that applies to the
// video and writes the results of this run (named by its job), leaving those of other runs as they are: clients
// keep reading the released run until an admin releases this one.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { applicableDetGroups, computeVideoMetrics } from '../analytics/compute-video.ts';
import { keptRuns, removeUnkeptRuns, videoRuns } from '../analytics/runs.ts';
import { deleteRunResultsExcept } from '../analytics/store.ts';
import { stepTask } from '../jobs/step-task.ts';
import { markIngested, markMetricsReady } from '../catalog/video-lifecycle.ts';
import { getIngestVideo } from './videos.ts';

const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid(), frameCount: z.number().int().min(0) });

export const handler = stepTask(Input, { step: 'metrics', after: 'frames', subject: ({ videoId }) => ({ videoId }) }, async ({ jobId, videoId, frameCount }) => {
  const run = jobId;
  const before = keptRuns((await videoRuns(videoId)) ?? {});
  await markMetricsReady(videoId, frameCount, run);
  // Read after the mark above is committed: see markMetricsReady.
  const detGroups = await applicableDetGroups(videoId);
  const computed = await computeVideoMetrics(await getIngestVideo(videoId), run, detGroups);
  // Documents of det_groups deleted meanwhile go; the set is read again so that a det_group created since
  // (and computed for this run by its own job) keeps its documents.
  await deleteRunResultsExcept(videoId, run, (await applicableDetGroups(videoId)).map((g) => g.detGroupId));
  const ingested = await markIngested(videoId, run);
  // The runs this one replaced (an earlier unreleased or failed run) are read by nobody now.
  await removeUnkeptRuns(videoId, ingested ? before : [...before, run]);
  logger.info('video metrics computed', { detGroups: computed.length, ingested });
  return { detGroups: computed };
});

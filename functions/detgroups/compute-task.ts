// detgroups-compute (Task inside the Map of det-group): one det_group's metrics for one video, written for the
// video's run whose frames and localizations are in place.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { applicableDetGroups, computeVideoMetrics } from '../analytics/compute-video.ts';
import { isKept } from '../analytics/runs.ts';
import { deleteResults } from '../analytics/store.ts';
import { partTask } from '../jobs/step-task.ts';
import { getVideoState } from '../catalog/video-lifecycle.ts';
import { detGroupExists, touchDetGroup } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), detGroupId: z.uuid(), videoId: z.uuid() });

// A resumed run skips the videos an earlier run computed.
const parts = {
  step: 'compute',
  part: ({ videoId }: { videoId: string }) => videoId,
  subject: ({ detGroupId, videoId }: { detGroupId: string; videoId: string }) => ({ detGroupId, videoId }),
  done: ({ videoId }: { videoId: string }) => ({ videoId, computed: true }),
} as const;

export const handler = partTask(Input, parts, async ({ detGroupId, videoId }) => {
  // Still applies? The video may have been re-ingested with other localizations since the list was made.
  const detGroups = await applicableDetGroups(videoId, [detGroupId]);
  const video = await getVideoState(videoId);
  const computed = (await computeVideoMetrics(video, video.metricsRun, detGroups)).length > 0;
  // Checked again after writing: the det_group may have been deleted (its documents removed) or the run replaced
  // while this computed, and what was written then would stay behind. Deleting comes after their own change in
  // both cases, so whichever runs last removes the documents.
  const wanted = computed && (await detGroupExists(detGroupId)) && (await isKept(videoId, video.metricsRun));
  if (computed && !wanted) {
    await deleteResults({ videoId, run: video.metricsRun, detGroupId });
    logger.info('det_group deleted or run replaced while computing; its results were removed');
  }
  // New metrics of a det_group change what its clients see: touching it (and so them) moves their cache keys.
  if (wanted) await touchDetGroup(detGroupId);
  return { videoId, computed: wanted };
});

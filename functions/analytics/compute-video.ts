// Computes and stores the metrics of one video for its det_groups: used by the video ingest (all det_groups
// that apply, as the results of its run) and by a det_group's computation (that det_group, for each video it
// applies to).
import { logger } from '../lib/logger.ts';
import { query } from '../lib/pg.ts';
import { labelKey } from '../../shared/label-map.ts';
import { getVideoState, markIngested, markMetricsReady, type VideoState } from '../catalog/video-lifecycle.ts';
import { loadLocalizations } from './load-localizations.ts';
import type { EventWindow } from './metrics.ts';
import { computeVideoResults, type DetGroupLabels } from './results.ts';
import { keptRuns, removeUnkeptRuns, videoRuns } from './runs.ts';
import { deleteRunResultsExcept, writeResults, type Run } from './store.ts';

/**
 * The det_groups that apply to a video: every detectable of the det_group occurs among the video's detectables
 * (video_detectable, from its localizations). `only` narrows them to some det_groups.
 */
export async function applicableDetGroups(videoId: string, only?: readonly string[]): Promise<DetGroupLabels[]> {
  const rows = await query<{ id: string; names: string[] }>(
    `SELECT dg.id, array_agg(d.name) AS names
       FROM det_group dg
       JOIN det_group_detectable dgd ON dgd.det_group_id = dg.id
       JOIN detectable d ON d.id = dgd.detectable_id
       LEFT JOIN video_detectable vd ON vd.video_id = $1 AND vd.detectable_id = dgd.detectable_id
      WHERE ($2::uuid[] IS NULL OR dg.id = ANY ($2::uuid[]))
      GROUP BY dg.id
     HAVING bool_and(vd.video_id IS NOT NULL)
      ORDER BY dg.id`,
    [videoId, only ?? null],
  );
  return rows.map((r) => ({ detGroupId: r.id, labels: new Set(r.names.map(labelKey)) }));
}

export async function gameEvents(gameId: string): Promise<EventWindow[]> {
  const rows = await query<{ time: string; weight: string; window_seconds: string }>(
    `SELECT e.time, et.weight, et.window_seconds FROM event e JOIN event_type et ON et.id = e.event_type_id WHERE e.game_id = $1`,
    [gameId],
  );
  return rows.map((r) => ({ time: Number(r.time), weight: Number(r.weight), windowSeconds: Number(r.window_seconds) }));
}

/** Computes and writes the results of `video` for the det_groups given, as results of `run`; returns their ids. */
export async function computeVideoMetrics(video: VideoState, run: Run, detGroups: readonly DetGroupLabels[]): Promise<string[]> {
  if (video.frameCount === null) throw new Error(`video ${video.id} has no extracted frames yet`);
  if (detGroups.length === 0) return [];
  const [localizations, events] = await Promise.all([loadLocalizations(video), gameEvents(video.gameId)]);
  const results = computeVideoResults(
    { localizations, frameCount: video.frameCount, fps: video.ingestFrameRate, threshold: video.ingestThreshold, events },
    detGroups,
  );
  await writeResults(video.id, run, { frameRate: video.ingestFrameRate, threshold: video.ingestThreshold }, results);
  return results.map((r) => r.detGroupId);
}

/**
 * The metrics of an ingest run whose `frameCount` frames are extracted: every det_group that applies to the video,
 * written as the results of `run`, leaving those of other runs as they are (clients keep reading the released run
 * until an admin releases this one). The run then becomes the video's, unless a newer run replaced it meanwhile.
 * Returns the det_groups computed.
 */
export async function computeIngestMetrics(videoId: string, run: string, frameCount: number): Promise<string[]> {
  const before = keptRuns((await videoRuns(videoId)) ?? {});
  await markMetricsReady(videoId, frameCount, run);
  // Read after the mark above is committed: see markMetricsReady.
  const detGroups = await applicableDetGroups(videoId);
  const computed = await computeVideoMetrics(await getVideoState(videoId), run, detGroups);
  // Documents of det_groups deleted meanwhile go; the set is read again so that a det_group created since
  // (and computed for this run by its own job) keeps its documents.
  await deleteRunResultsExcept(videoId, run, (await applicableDetGroups(videoId)).map((g) => g.detGroupId));
  const ingested = await markIngested(videoId, run);
  // The runs this one replaced (an earlier unreleased or failed run) are read by nobody now.
  await removeUnkeptRuns(videoId, ingested ? before : [...before, run]);
  logger.info('video metrics computed', { detGroups: computed.length, ingested });
  return computed;
}

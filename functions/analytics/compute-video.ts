// Computes and stores the metrics of one video for its det_groups: used by the video ingest (all det_groups
// that apply) and by a det_group's computation (that det_group, for each video it applies to).
import { query } from '../lib/pg.ts';
import { labelKey } from '../ingest/label-mapping.ts';
import { loadLocalizations } from '../ingest/sources.ts';
import type { IngestVideo } from '../ingest/videos.ts';
import type { EventWindow } from './metrics.ts';
import { computeVideoResults, type DetGroupLabels } from './results.ts';
import { writeResults, type Run } from './store.ts';

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
export async function computeVideoMetrics(video: IngestVideo, run: Run, detGroups: readonly DetGroupLabels[]): Promise<string[]> {
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

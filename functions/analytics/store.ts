// Metric documents in MongoDB: one per {video, det_group} (the frame series, columnar) and one per
// {video, det_group, resolution} (the rollup). Each has a deterministic _id from its natural key and is
// written whole by that _id, so a re-run replaces it and never doubles it.
import { ObjectId } from 'mongodb';
import { mongo } from '../lib/mongo.ts';
import { documentId } from './document-id.ts';
import type { FrameMetric } from './metrics.ts';
import type { VideoResults } from './results.ts';
import { RESOLUTIONS, type Bucket, type Resolution } from './rollup.ts';

const SERIES = 'frame_series';
const ROLLUPS = 'rollups';
const FIELDS = ['frame', 'time', 'count', 'area', 'score', 'centrality', 'eventWeight', 'effectiveness'] as const;

export const seriesId = (videoId: string, detGroupId: string) => ObjectId.createFromHexString(documentId(videoId, detGroupId));
export const rollupId = (videoId: string, detGroupId: string, resolution: Resolution) =>
  ObjectId.createFromHexString(documentId(videoId, detGroupId, String(resolution)));

interface SeriesDoc {
  _id: ObjectId;
  videoId: string;
  detGroupId: string;
  frameRate: number;
  threshold: number;
  computedAt: Date;
  columns: Record<(typeof FIELDS)[number], number[]>;
}

interface RollupDoc {
  _id: ObjectId;
  videoId: string;
  detGroupId: string;
  resolution: string;
  frameRate: number;
  computedAt: Date;
  buckets: Bucket[];
}

export async function writeResults(videoId: string, meta: { frameRate: number; threshold: number }, results: readonly VideoResults[]): Promise<void> {
  const db = await mongo();
  const computedAt = new Date();
  for (const r of results) {
    const columns = Object.fromEntries(FIELDS.map((f) => [f, r.series.map((m) => m[f])])) as SeriesDoc['columns'];
    const series: SeriesDoc = { _id: seriesId(videoId, r.detGroupId), videoId, detGroupId: r.detGroupId, ...meta, computedAt, columns };
    await db.collection<SeriesDoc>(SERIES).replaceOne({ _id: series._id }, series, { upsert: true });
    for (const resolution of RESOLUTIONS) {
      const doc: RollupDoc = {
        _id: rollupId(videoId, r.detGroupId, resolution),
        videoId,
        detGroupId: r.detGroupId,
        resolution: String(resolution),
        frameRate: meta.frameRate,
        computedAt,
        buckets: r.rollups.get(resolution) ?? [],
      };
      await db.collection<RollupDoc>(ROLLUPS).replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
  }
}

/** Removes a video's documents of det_groups not in `keep` (a re-run after the video's detectables changed). */
export async function deleteVideoResultsExcept(videoId: string, keep: readonly string[]): Promise<void> {
  const db = await mongo();
  for (const c of [SERIES, ROLLUPS]) await db.collection(c).deleteMany({ videoId, detGroupId: { $nin: [...keep] } });
}

/** Removes every document of a det_group (it is no longer referenced by any client). */
export async function deleteDetGroupResults(detGroupId: string): Promise<void> {
  const db = await mongo();
  for (const c of [SERIES, ROLLUPS]) await db.collection(c).deleteMany({ detGroupId });
}

export async function readRollup(videoId: string, detGroupId: string, resolution: Resolution): Promise<{ frameRate: number; buckets: Bucket[] } | undefined> {
  const db = await mongo();
  const doc = await db.collection<RollupDoc>(ROLLUPS).findOne({ _id: rollupId(videoId, detGroupId, resolution) });
  return doc ? { frameRate: doc.frameRate, buckets: doc.buckets } : undefined;
}

/** The frame series between `from` and `to` seconds (inclusive), as rows. */
export async function readFrames(videoId: string, detGroupId: string, from = 0, to = Number.POSITIVE_INFINITY): Promise<{ frameRate: number; frames: FrameMetric[] } | undefined> {
  const db = await mongo();
  const doc = await db.collection<SeriesDoc>(SERIES).findOne({ _id: seriesId(videoId, detGroupId) });
  if (!doc) return undefined;
  const frames: FrameMetric[] = [];
  const c = doc.columns;
  for (let i = 0; i < c.frame.length; i++) {
    const time = c.time[i]!;
    if (time < from || time > to) continue;
    frames.push({
      frame: c.frame[i]!,
      time,
      count: c.count[i]!,
      area: c.area[i]!,
      score: c.score[i]!,
      centrality: c.centrality[i]!,
      eventWeight: c.eventWeight[i]!,
      effectiveness: c.effectiveness[i]!,
    });
  }
  return { frameRate: doc.frameRate, frames };
}

/** Many rollups at one resolution in one query; pairs without a document are absent from the result (keyed `video:det_group`). */
export async function readRollups(pairs: readonly { videoId: string; detGroupId: string }[], resolution: Resolution): Promise<Map<string, { frameRate: number; buckets: Bucket[] }>> {
  const found = new Map<string, { frameRate: number; buckets: Bucket[] }>();
  if (pairs.length === 0) return found;
  const db = await mongo();
  const ids = pairs.map((p) => rollupId(p.videoId, p.detGroupId, resolution));
  // In chunks: one reply stays a few MB however many fragments a cold season build needs.
  for (let i = 0; i < ids.length; i += 50) {
    const docs = await db.collection<RollupDoc>(ROLLUPS).find({ _id: { $in: ids.slice(i, i + 50) } }).toArray();
    for (const d of docs) found.set(`${d.videoId}:${d.detGroupId}`, { frameRate: d.frameRate, buckets: d.buckets });
  }
  return found;
}

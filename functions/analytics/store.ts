// Metric documents in MongoDB: one per {video, run, det_group} (the frame series, columnar) and one per
// {video, run, det_group, resolution} (the rollup), where the run is the ingest run whose frames and
// localizations they were computed from. Each has a deterministic _id from its natural key and is written
// whole by that _id, so a retried computation replaces it and never doubles it; a new run never touches the
// documents of another (see runs.ts for which run each reader sees).
import { ObjectId, type Document } from 'mongodb';
import { collectionWithIndexes, type IndexFields } from '../lib/mongo.ts';
import { documentId } from '../lib/document-id.ts';
import type { FrameMetric } from './metrics.ts';
import type { VideoResults } from './results.ts';
import { NO_FRAMES, RESOLUTIONS, type Bucket, type Resolution } from './rollup.ts';

const SERIES = 'frame_series';
const ROLLUPS = 'rollups';
/** What results are found by besides their _id: a video's run (its review, its cleaning) and a det_group (its deletion). */
const RESULT_INDEXES: readonly IndexFields[] = [['videoId', 'run', 'detGroupId'], ['detGroupId']];
const stored = <T extends Document = Document>(name: string) => collectionWithIndexes<T>(name, RESULT_INDEXES);
const FIELDS = ['frame', 'time', 'count', 'area', 'score', 'centrality', 'eventWeight', 'effectiveness'] as const;

/** An ingest run: its job's id; null for the results written before runs were named (their ids have no run part). */
export type Run = string | null;

/** The results of one det_group for one run of a video. */
export interface ResultsKey {
  readonly videoId: string;
  readonly run: Run;
  readonly detGroupId: string;
}

const keyParts = (k: ResultsKey) => (k.run === null ? [k.videoId, k.detGroupId] : [k.videoId, k.detGroupId, k.run]);
export const seriesId = (k: ResultsKey) => ObjectId.createFromHexString(documentId(...keyParts(k)));
export const rollupId = (k: ResultsKey, resolution: Resolution) => ObjectId.createFromHexString(documentId(...keyParts(k), String(resolution)));

interface SeriesDoc {
  _id: ObjectId;
  videoId: string;
  run: Run;
  detGroupId: string;
  frameRate: number;
  threshold: number;
  computedAt: Date;
  columns: Record<(typeof FIELDS)[number], number[]>;
}

interface RollupDoc {
  _id: ObjectId;
  videoId: string;
  run: Run;
  detGroupId: string;
  resolution: string;
  frameRate: number;
  computedAt: Date;
  buckets: Bucket[];
}

export async function writeResults(videoId: string, run: Run, meta: { frameRate: number; threshold: number }, results: readonly VideoResults[]): Promise<void> {
  const computedAt = new Date();
  for (const r of results) {
    const key = { videoId, run, detGroupId: r.detGroupId };
    const columns = Object.fromEntries(FIELDS.map((f) => [f, r.series.map((m) => m[f])])) as SeriesDoc['columns'];
    const series: SeriesDoc = { _id: seriesId(key), ...key, ...meta, computedAt, columns };
    await (await stored<SeriesDoc>(SERIES)).replaceOne({ _id: series._id }, series, { upsert: true });
    for (const resolution of RESOLUTIONS) {
      const doc: RollupDoc = {
        _id: rollupId(key, resolution),
        ...key,
        resolution: String(resolution),
        frameRate: meta.frameRate,
        computedAt,
        buckets: r.rollups.get(resolution) ?? [],
      };
      await (await stored<RollupDoc>(ROLLUPS)).replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
  }
}

/** Removes a run's documents of det_groups not in `keep` (a det_group deleted, or no longer applying, meanwhile). */
export async function deleteRunResultsExcept(videoId: string, run: Run, keep: readonly string[]): Promise<void> {
  for (const c of [SERIES, ROLLUPS]) await (await stored(c)).deleteMany({ videoId, run, detGroupId: { $nin: [...keep] } });
}

/** Removes the documents of one det_group for one run of a video. */
export async function deleteResults(key: ResultsKey): Promise<void> {
  await (await stored(SERIES)).deleteOne({ _id: seriesId(key) });
  await (await stored(ROLLUPS)).deleteMany({ _id: { $in: RESOLUTIONS.map((r) => rollupId(key, r)) } });
}

/** Removes every document of one run of a video. */
export async function deleteRun(videoId: string, run: Run): Promise<void> {
  // `run: null` also matches the documents without a run field (written before runs were named).
  for (const c of [SERIES, ROLLUPS]) await (await stored(c)).deleteMany({ videoId, run });
}

/** Removes every document of a det_group (it is no longer referenced by any client). */
export async function deleteDetGroupResults(detGroupId: string): Promise<void> {
  for (const c of [SERIES, ROLLUPS]) await (await stored(c)).deleteMany({ detGroupId });
}

const documentIds = (k: ResultsKey) => [seriesId(k), ...RESOLUTIONS.map((r) => rollupId(k, r))];

/** Of these results, the ones not written completely (the frame series or a rollup missing). */
export async function incompleteResults<K extends ResultsKey>(keys: readonly K[]): Promise<K[]> {
  if (keys.length === 0) return [];
  const found = new Set<string>();
  // Each id is looked for only in the collection that holds its kind of document.
  const lookIn = async (collection: string, ids: ObjectId[]) => {
    for (let i = 0; i < ids.length; i += 250) {
      const docs = await (await stored(collection)).find({ _id: { $in: ids.slice(i, i + 250) } }, { projection: { _id: 1 } }).toArray();
      for (const d of docs) found.add(String(d._id));
    }
  };
  await lookIn(SERIES, keys.map(seriesId));
  await lookIn(ROLLUPS, keys.flatMap((k) => RESOLUTIONS.map((r) => rollupId(k, r))));
  return keys.filter((k) => documentIds(k).some((id) => !found.has(String(id))));
}

export async function readRollup(key: ResultsKey, resolution: Resolution): Promise<{ frameRate: number; buckets: Bucket[] } | undefined> {
  const doc = await (await stored<RollupDoc>(ROLLUPS)).findOne({ _id: rollupId(key, resolution) });
  return doc ? { frameRate: doc.frameRate, buckets: doc.buckets } : undefined;
}

/** A frame series as rows, with the run's threshold and when it was computed. */
export interface FrameSeriesRows {
  readonly frameRate: number;
  readonly threshold: number;
  readonly computedAt: Date;
  readonly frames: FrameMetric[];
}

/** The frame series between `from` and `to` seconds (inclusive), as rows. */
export async function readFrames(key: ResultsKey, from = 0, to = Number.POSITIVE_INFINITY): Promise<FrameSeriesRows | undefined> {
  const doc = await (await stored<SeriesDoc>(SERIES)).findOne({ _id: seriesId(key) });
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
  return { frameRate: doc.frameRate, threshold: doc.threshold, computedAt: new Date(doc.computedAt), frames };
}

/** Each det_group's one bucket over the whole video, for the det_groups with results in this run (zeros for a video without frames). */
export async function readVideoTotals(videoId: string, run: Run): Promise<Map<string, Bucket>> {
  const docs = await (await stored<RollupDoc>(ROLLUPS)).find({ videoId, run, resolution: 'video' }).toArray();
  return new Map(docs.map((d) => [d.detGroupId, d.buckets[0] ?? NO_FRAMES]));
}

/** Many rollups at one resolution in one query; results without a document are absent from the result (keyed `video:det_group`). */
export async function readRollups(keys: readonly ResultsKey[], resolution: Resolution): Promise<Map<string, { frameRate: number; buckets: Bucket[] }>> {
  const found = new Map<string, { frameRate: number; buckets: Bucket[] }>();
  if (keys.length === 0) return found;
  const ids = keys.map((k) => rollupId(k, resolution));
  // In chunks: one reply stays a few MB however many fragments a cold season build needs.
  for (let i = 0; i < ids.length; i += 50) {
    const docs = await (await stored<RollupDoc>(ROLLUPS)).find({ _id: { $in: ids.slice(i, i + 50) } }).toArray();
    for (const d of docs) found.set(`${d.videoId}:${d.detGroupId}`, { frameRate: d.frameRate, buckets: d.buckets });
  }
  return found;
}

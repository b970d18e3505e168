// Season and game metrics for one client, assembled from {video, det_group, resolution} fragments (version 2):
// fragments come from the shared cache, and only the missing ones are read from MongoDB (one query) and stored.
// A fragment is cached as the JSON text it contributes to a response (a few kB, not compressed: the response is
// compressed as a whole, which makes it about a quarter smaller than compressing fragments one by one, since
// neighbouring fragments share most of their `start` and `frames` columns).
import { cacheGetMany, cachePutMany, type CacheValue } from '../lib/cache.ts';
import { assembleMetricsParts, videoFragment, type Fragment, type Totals } from './assemble.ts';
import { fragmentKey } from './cache-keys.ts';
import type { Resolution } from './rollup.ts';
import { releasedVideos, visibleDetGroups } from './season-store.ts';
import { readRollups } from './store.ts';

export const FRAGMENT_TTL_SECONDS = 7 * 24 * 3600;

export interface BuiltMetrics {
  /** The response's JSON text. */
  readonly json: string;
  /** Fragments read from MongoDB and stored in the cache by this build. */
  readonly fragmentsBuilt: number;
  readonly fragmentsCached: number;
}

const encodeFragment = (f: Fragment): CacheValue => ({ body: Buffer.from(f.json), encoding: 'identity', meta: { totals: JSON.stringify(f.totals) } });
const decodeFragment = (v: CacheValue): Fragment => ({ json: v.body.toString('utf8'), totals: JSON.parse(v.meta.totals!) as Totals });
const isFragment = (v: CacheValue) => v.encoding === 'identity' && v.meta.totals !== undefined;

export async function buildMetrics(q: { seasonId: string; gameId: string | null; clientId: string; resolution: Resolution }): Promise<BuiltMetrics> {
  const [detGroups, videos] = await Promise.all([visibleDetGroups(q.clientId), releasedVideos(q.seasonId, q.gameId)]);
  const cells = videos.flatMap((v) =>
    detGroups.map((dg) => ({
      videoId: v.videoId,
      detGroupId: dg.id,
      key: fragmentKey({ videoId: v.videoId, videoVersion: v.version, detGroupId: dg.id, detGroupVersion: dg.version, resolution: q.resolution }),
    })),
  );
  const cached = await cacheGetMany(cells.map((c) => c.key));
  const fragments = new Map<string, Fragment>();
  const missing = cells.filter((c) => {
    const v = cached.get(c.key);
    if (v && isFragment(v)) fragments.set(`${c.videoId}:${c.detGroupId}`, decodeFragment(v));
    return !fragments.has(`${c.videoId}:${c.detGroupId}`);
  });
  const read = await readRollups(missing, q.resolution);
  // A {video, det_group} without a document (the det_group does not apply, or is still being computed) is not cached.
  const built = missing.flatMap((c) => {
    const doc = read.get(`${c.videoId}:${c.detGroupId}`);
    if (!doc) return [];
    const fragment = videoFragment(c.videoId, doc.frameRate, doc.buckets);
    fragments.set(`${c.videoId}:${c.detGroupId}`, fragment);
    return [{ key: c.key, value: encodeFragment(fragment) }];
  });
  // Stored while the response is assembled: the assembly reads only the fragments in memory.
  const stored = cachePutMany(built, FRAGMENT_TTL_SECONDS);

  const games: { id: string; title: string; startsAt: string; videoIds: string[] }[] = [];
  for (const v of videos) {
    const last = games.at(-1);
    if (last?.id === v.gameId) last.videoIds.push(v.videoId);
    else games.push({ id: v.gameId, title: v.title, startsAt: v.startsAt, videoIds: [v.videoId] });
  }
  const header = { seasonId: q.seasonId, ...(q.gameId && { gameId: q.gameId }), clientId: q.clientId, resolution: String(q.resolution) };
  const parts = assembleMetricsParts(header, games, detGroups, (videoId, detGroupId) => fragments.get(`${videoId}:${detGroupId}`));
  const json = parts.map((p) => (typeof p === 'string' ? p : p.json)).join('');
  await stored;
  return {
    json,
    fragmentsBuilt: built.length,
    fragmentsCached: cells.length - missing.length,
  };
}

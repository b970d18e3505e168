// Season and game metrics for one client, assembled from {video, det_group, resolution} fragments (version 2):
// fragments come from the shared cache, and only the missing ones are read from MongoDB (one query) and stored.
import { cacheGetMany, cachePutMany, type CacheValue } from '../lib/cache.ts';
import { compress, decompress } from '../lib/encoding.ts';
import { assembleMetrics, type Fragment } from './assemble.ts';
import { fragmentKey } from './cache-keys.ts';
import type { Resolution } from './rollup.ts';
import { releasedVideos, visibleDetGroups } from './season-store.ts';
import { readRollups } from './store.ts';

export const FRAGMENT_TTL_SECONDS = 7 * 24 * 3600;

export interface BuiltMetrics {
  readonly payload: unknown;
  /** Fragments read from MongoDB and stored in the cache by this build. */
  readonly fragmentsBuilt: number;
  readonly fragmentsCached: number;
}

const encodeFragment = (f: Fragment): CacheValue => ({ body: compress(Buffer.from(JSON.stringify(f)), 'br'), encoding: 'br', meta: {} });
const decodeFragment = (v: CacheValue): Fragment => JSON.parse(decompress(v.body, v.encoding).toString('utf8')) as Fragment;

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
    if (v) fragments.set(`${c.videoId}:${c.detGroupId}`, decodeFragment(v));
    return !v;
  });
  const read = await readRollups(missing, q.resolution);
  // A {video, det_group} without a document (the det_group does not apply, or is still being computed) is not cached.
  const built = missing.flatMap((c) => {
    const doc = read.get(`${c.videoId}:${c.detGroupId}`);
    if (!doc) return [];
    const fragment: Fragment = { frameRate: doc.frameRate, buckets: doc.buckets };
    fragments.set(`${c.videoId}:${c.detGroupId}`, fragment);
    return [{ key: c.key, value: encodeFragment(fragment) }];
  });
  await cachePutMany(built, FRAGMENT_TTL_SECONDS);

  const games: { id: string; title: string; startsAt: string; videoIds: string[] }[] = [];
  for (const v of videos) {
    const last = games.at(-1);
    if (last?.id === v.gameId) last.videoIds.push(v.videoId);
    else games.push({ id: v.gameId, title: v.title, startsAt: v.startsAt, videoIds: [v.videoId] });
  }
  const assembled = assembleMetrics(games, detGroups, (videoId, detGroupId) => fragments.get(`${videoId}:${detGroupId}`));
  return {
    payload: { seasonId: q.seasonId, ...(q.gameId && { gameId: q.gameId }), clientId: q.clientId, resolution: String(q.resolution), ...assembled },
    fragmentsBuilt: built.length,
    fragmentsCached: cells.length - missing.length,
  };
}

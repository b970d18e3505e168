// Season and game metrics for one client (version 2 of the cache, "Russian doll"): a response is made of game
// sections, a section of {video, det_group, resolution} fragments. Sections and fragments come from the shared
// cache; only the sections missing there are built, from their fragments, and only the fragments missing there
// are read from MongoDB (one query). So releasing one video builds one section and that video's fragments.
// A video's fragments are those of its released run: a re-run waiting for release changes nothing here.
//
// A fragment is cached as the JSON text it contributes to its section. A section is cached compressed, as a
// deflate segment of its JSON text, and the response is spliced from the sections' segments into one gzip body
// (gzip-splice.ts): a rebuild compresses the new section and the short text around the sections, not the whole
// response, and a section (tens of kB) compresses about as well on its own as within the whole.
import { createHash } from 'node:crypto';
import { cacheGetMany, cachePutMany, type CacheValue } from '../lib/cache.ts';
import { payloadHash } from '../lib/encoding.ts';
import { deflateSegment, gzipFromSegments, type DeflateSegment } from '../lib/gzip-splice.ts';
import { assembleMetricsParts, gameSection, videoFragment, type Fragment, type Totals } from './assemble.ts';
import { fragmentKey, gameSectionKey } from './cache-keys.ts';
import type { Resolution } from './rollup.ts';
import { releasedVideos, visibleDetGroups, type VisibleDetGroup } from './season-store.ts';
import { readRollups, type Run } from './store.ts';

export const FRAGMENT_TTL_SECONDS = 7 * 24 * 3600;

export interface BuiltMetrics {
  /** The response's JSON text, gzip-compressed, and the hash of that text (its ETag). */
  readonly gzip: Buffer;
  readonly hash: string;
  /** Game sections and fragments built by this build (fragments read from MongoDB), and those found in the cache. */
  readonly sectionsBuilt: number;
  readonly sectionsCached: number;
  readonly fragmentsBuilt: number;
  readonly fragmentsCached: number;
}

const encodeFragment = (f: Fragment): CacheValue => ({ body: Buffer.from(f.json), encoding: 'identity', meta: { totals: JSON.stringify(f.totals) } });
const decodeFragment = (v: CacheValue): Fragment | undefined =>
  v.encoding === 'identity' && v.meta.totals !== undefined ? { json: v.body.toString('utf8'), totals: JSON.parse(v.meta.totals) as Totals } : undefined;

/** A game section as cached: the deflate segment of its JSON text, the text's hash, and its totals per det_group. */
interface CachedSection {
  readonly segment: DeflateSegment;
  readonly hash: string;
  readonly totals: Readonly<Record<string, Totals>>;
}

const encodeSection = (s: CachedSection): CacheValue => ({
  body: s.segment.bytes,
  encoding: 'deflate-segment',
  meta: { crc: String(s.segment.crc), length: String(s.segment.length), hash: s.hash, totals: JSON.stringify(s.totals) },
});
const decodeSection = (v: CacheValue): CachedSection | undefined =>
  v.encoding === 'deflate-segment' && v.meta.crc && v.meta.length && v.meta.hash && v.meta.totals
    ? {
        segment: { bytes: v.body, crc: Number(v.meta.crc), length: Number(v.meta.length) },
        hash: v.meta.hash,
        totals: JSON.parse(v.meta.totals) as Record<string, Totals>,
      }
    : undefined;

/** The hash of the joined parts, from the text and the sections' hashes (each part length-prefixed, so none runs into the next). */
function partsHash(parts: readonly (string | CachedSection)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? `t${p.length}:${p}` : `s${p.hash}`);
  return h.digest('base64url').slice(0, 27);
}

interface Game {
  readonly id: string;
  readonly title: string;
  readonly startsAt: string;
  readonly videos: { readonly id: string; readonly run: Run }[];
}

/** The missing sections' fragments: from the cache, else from MongoDB (and then stored). */
async function fragmentsOf(games: readonly Game[], detGroups: readonly VisibleDetGroup[], resolution: Resolution) {
  const cells = games.flatMap((g) =>
    g.videos.flatMap((v) =>
      detGroups.map((dg) => ({
        videoId: v.id,
        run: v.run,
        detGroupId: dg.id,
        key: fragmentKey({ videoId: v.id, run: v.run, detGroupId: dg.id, detGroupVersion: dg.version, resolution }),
      })),
    ),
  );
  const cached = await cacheGetMany(cells.map((c) => c.key));
  const fragments = new Map<string, Fragment>();
  const missing = cells.filter((c) => {
    const v = cached.get(c.key);
    const f = v && decodeFragment(v);
    if (f) fragments.set(`${c.videoId}:${c.detGroupId}`, f);
    return !f;
  });
  const read = await readRollups(missing, resolution);
  // A {video, run, det_group} without a document (the det_group does not apply, or is still being computed) is not cached.
  const built = missing.flatMap((c) => {
    const doc = read.get(`${c.videoId}:${c.detGroupId}`);
    if (!doc) return [];
    const fragment = videoFragment(c.videoId, doc.frameRate, doc.buckets);
    fragments.set(`${c.videoId}:${c.detGroupId}`, fragment);
    return [{ key: c.key, value: encodeFragment(fragment) }];
  });
  await cachePutMany(built, FRAGMENT_TTL_SECONDS);
  return { fragments, built: built.length, cached: cells.length - missing.length };
}

export async function buildMetrics(q: { seasonId: string; gameId: string | null; clientId: string; resolution: Resolution }): Promise<BuiltMetrics> {
  const [detGroups, videos] = await Promise.all([visibleDetGroups(q.clientId), releasedVideos(q.seasonId, q.gameId)]);
  const games: Game[] = [];
  for (const v of videos) {
    const last = games.at(-1);
    if (last?.id === v.gameId) last.videos.push({ id: v.videoId, run: v.run });
    else games.push({ id: v.gameId, title: v.title, startsAt: v.startsAt, videos: [{ id: v.videoId, run: v.run }] });
  }
  const sectionKeys = new Map(
    games.map((g) => [g.id, gameSectionKey({ gameId: g.id, title: g.title, startsAt: g.startsAt, videos: g.videos, detGroups, resolution: q.resolution })]),
  );
  const cachedSections = await cacheGetMany([...sectionKeys.values()]);
  const sections = new Map<string, CachedSection>();
  for (const g of games) {
    const s = cachedSections.get(sectionKeys.get(g.id)!);
    const decoded = s && decodeSection(s);
    if (decoded) sections.set(g.id, decoded);
  }

  const missing = games.filter((g) => !sections.has(g.id));
  const { fragments, built, cached } = await fragmentsOf(missing, detGroups, q.resolution);
  const newSections = missing.map((g) => {
    const section = gameSection({ ...g, videoIds: g.videos.map((v) => v.id) }, detGroups, (videoId, detGroupId) => fragments.get(`${videoId}:${detGroupId}`));
    const value: CachedSection = { segment: deflateSegment(section.json), hash: payloadHash(section.json), totals: section.totals };
    sections.set(g.id, value);
    return { key: sectionKeys.get(g.id)!, value: encodeSection(value) };
  });
  const stored = cachePutMany(newSections, FRAGMENT_TTL_SECONDS);

  const header = { seasonId: q.seasonId, ...(q.gameId && { gameId: q.gameId }), clientId: q.clientId, resolution: String(q.resolution) };
  const parts = assembleMetricsParts(header, detGroups, games.map((g) => sections.get(g.id)!));
  const gzip = gzipFromSegments(parts.map((p) => (typeof p === 'string' ? deflateSegment(p) : p.segment)));
  await stored;
  return {
    gzip,
    hash: partsHash(parts),
    sectionsBuilt: newSections.length,
    sectionsCached: games.length - missing.length,
    fragmentsBuilt: built,
    fragmentsCached: cached,
  };
}

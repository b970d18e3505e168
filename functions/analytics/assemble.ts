// Season and game metrics assembled from fragments ({video, det_group, resolution} rollups). Pure.
//
// The response is chart-ready and columnar: a video's buckets are one array per field (`start`, `frames`, ...),
// not one object per bucket, which makes the payload about a third of the size. Bucket values are rounded to
// SIGNIFICANT_DIGITS significant digits (far below what a chart shows; the per-video endpoint keeps full
// precision); totals are computed from the unrounded values and kept whole. A response is assembled as parts, text
// and fragments in their places, so that each fragment can be cached in the form it takes in the response.
import type { Bucket } from './rollup.ts';

export const SIGNIFICANT_DIGITS = 6;

/** The fields of a bucket, in the order of the columns of a fragment. */
export const BUCKET_COLUMNS = ['start', 'frames', 'visibleFrames', 'exposureSeconds', 'detections', 'meanArea', 'maxArea', 'meanEffectiveness', 'sumEffectiveness'] as const;

export interface Totals {
  readonly frames: number;
  readonly visibleFrames: number;
  readonly exposureSeconds: number;
  readonly detections: number;
  readonly sumEffectiveness: number;
  /** Frame-weighted over the buckets. */
  readonly meanArea: number;
  readonly meanEffectiveness: number;
  readonly maxArea: number;
}

const EMPTY: Totals = { frames: 0, visibleFrames: 0, exposureSeconds: 0, detections: 0, sumEffectiveness: 0, meanArea: 0, meanEffectiveness: 0, maxArea: 0 };

/** Totals over buckets or other totals (both have frames, the sums, the frame-weighted means and maxArea). */
export function totalsOf(parts: readonly (Bucket | Totals)[]): Totals {
  if (parts.length === 0) return EMPTY;
  let frames = 0, visibleFrames = 0, exposureSeconds = 0, detections = 0, sumEffectiveness = 0, areaFrames = 0, effFrames = 0, maxArea = 0; // prettier-ignore
  for (const p of parts) {
    frames += p.frames;
    visibleFrames += p.visibleFrames;
    exposureSeconds += p.exposureSeconds;
    detections += p.detections;
    sumEffectiveness += p.sumEffectiveness;
    areaFrames += p.meanArea * p.frames;
    effFrames += p.meanEffectiveness * p.frames;
    if (p.maxArea > maxArea) maxArea = p.maxArea;
  }
  return {
    frames,
    visibleFrames,
    exposureSeconds,
    detections,
    sumEffectiveness,
    meanArea: frames > 0 ? areaFrames / frames : 0,
    meanEffectiveness: frames > 0 ? effFrames / frames : 0,
    maxArea,
  };
}

/** `x` with at most SIGNIFICANT_DIGITS significant digits (integers as they are). */
export const roundForChart = (x: number): number => (Number.isInteger(x) ? x : Number(x.toPrecision(SIGNIFICANT_DIGITS)));

/** One video's part of a response: its JSON text and the totals of its buckets. */
export interface Fragment {
  readonly json: string;
  readonly totals: Totals;
}

/** `{"videoId":…,"frameRate":…,"buckets":{"start":[…],"frames":[…],…}}` with rounded values, and the exact totals. */
export function videoFragment(videoId: string, frameRate: number, buckets: readonly Bucket[]): Fragment {
  const columns = Object.fromEntries(BUCKET_COLUMNS.map((c) => [c, buckets.map((b) => roundForChart(b[c]))]));
  return { json: JSON.stringify({ videoId, frameRate, buckets: columns }), totals: totalsOf(buckets) };
}

export interface GameInput {
  readonly id: string;
  readonly title: string;
  readonly startsAt: string;
  readonly videoIds: readonly string[];
}

export interface DetGroupInput {
  readonly id: string;
  readonly name: string;
}

/**
 * The JSON text of `{...header, games, detGroups}` as parts: text, and the fragments in their places (joined, the
 * parts are the text). Per det_group (in the given order), per game, per video the fragment, with game and
 * det_group totals. A {video, det_group} without a fragment (the det_group does not apply to the video) is left
 * out, and so is a game without any. Adjacent text is one part.
 */
export function assembleMetricsParts<F extends { readonly totals: Totals }>(
  header: Readonly<Record<string, string>>,
  games: readonly GameInput[],
  detGroups: readonly DetGroupInput[],
  fragment: (videoId: string, detGroupId: string) => F | undefined,
): (string | F)[] {
  const parts: (string | F)[] = [];
  const text = (t: string) => {
    if (typeof parts.at(-1) === 'string') parts[parts.length - 1] += t;
    else parts.push(t);
  };
  const head = JSON.stringify(header);
  text(head === '{}' ? '{' : `${head.slice(0, -1)},`);
  text(`"games":${JSON.stringify(games.map((g) => ({ id: g.id, title: g.title, startsAt: g.startsAt })))},"detGroups":[`);
  detGroups.forEach((dg, d) => {
    const perGame = games.flatMap((g) => {
      const videos = g.videoIds.flatMap((videoId) => fragment(videoId, dg.id) ?? []);
      return videos.length === 0 ? [] : [{ gameId: g.id, videos, totals: totalsOf(videos.map((v) => v.totals)) }];
    });
    const totals = totalsOf(perGame.map((g) => g.totals));
    text(`${d > 0 ? ',' : ''}{"id":${JSON.stringify(dg.id)},"name":${JSON.stringify(dg.name)},"totals":${JSON.stringify(totals)},"games":[`);
    perGame.forEach((g, i) => {
      text(`${i > 0 ? ',' : ''}{"gameId":${JSON.stringify(g.gameId)},"totals":${JSON.stringify(g.totals)},"videos":[`);
      g.videos.forEach((v, j) => {
        if (j > 0) text(',');
        parts.push(v);
      });
      text(']}');
    });
    text(']}');
  });
  text(']}');
  return parts;
}

// Season and game metrics assembled from fragments ({video, det_group, resolution} rollups). Pure.
//
// The response is chart-ready and columnar: a video's buckets are one array per field (`start`, `frames`, ...),
// not one object per bucket, which makes the payload about a third of the size. Bucket values are rounded to
// SIGNIFICANT_DIGITS significant digits (far below what a chart shows; the per-video endpoint keeps full
// precision); totals are computed from the unrounded values and kept whole.
//
// Games come first, det_groups within them: releasing a video changes one game's section, so a response is
// assembled from sections (each from its fragments) that are cached in the form they take in the response.
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

/** A game's part of a response: its JSON text and, per det_group with metrics in it, the game's totals. */
export interface GameSection {
  readonly json: string;
  readonly totals: Readonly<Record<string, Totals>>;
}

/**
 * `{"id","title","startsAt","detGroups":[{"id","totals","videos":[fragment, …]}, …]}`: per det_group (in the
 * given order) with a fragment for a video of the game, the fragments and their totals. A {video, det_group}
 * without a fragment (the det_group does not apply to the video) is left out.
 */
export function gameSection<F extends { readonly json: string; readonly totals: Totals }>(
  game: GameInput,
  detGroups: readonly DetGroupInput[],
  fragment: (videoId: string, detGroupId: string) => F | undefined,
): GameSection {
  const totals: Record<string, Totals> = {};
  const parts = detGroups.flatMap((dg) => {
    const videos = game.videoIds.flatMap((videoId) => fragment(videoId, dg.id) ?? []);
    if (videos.length === 0) return [];
    totals[dg.id] = totalsOf(videos.map((v) => v.totals));
    return [`{"id":${JSON.stringify(dg.id)},"totals":${JSON.stringify(totals[dg.id])},"videos":[${videos.map((v) => v.json).join(',')}]}`];
  });
  const head = JSON.stringify({ id: game.id, title: game.title, startsAt: game.startsAt });
  return { json: `${head.slice(0, -1)},"detGroups":[${parts.join(',')}]}`, totals };
}

/**
 * The JSON text of `{...header, detGroups: [{id, name, totals}], games: [section, …]}` as parts: the text before
 * the games, each game's section (joined with the text between, the parts are the text), and the text after.
 * Season totals per det_group come from the sections' totals.
 */
export function assembleMetricsParts<S extends { readonly totals: Readonly<Record<string, Totals>> }>(
  header: Readonly<Record<string, string>>,
  detGroups: readonly DetGroupInput[],
  sections: readonly S[],
): (string | S)[] {
  const seasonTotals = detGroups.map((dg) => ({ id: dg.id, name: dg.name, totals: totalsOf(sections.flatMap((s) => s.totals[dg.id] ?? [])) }));
  const head = JSON.stringify(header);
  const parts: (string | S)[] = [`${head === '{}' ? '{' : `${head.slice(0, -1)},`}"detGroups":${JSON.stringify(seasonTotals)},"games":[`];
  sections.forEach((section, i) => {
    if (i > 0) parts.push(',');
    parts.push(section);
  });
  parts.push(']}');
  return parts;
}

// A det_group's best frames in a video: the frames of its series with the highest effectiveness, each with the
// detections that made it (the ones the metrics counted: the det_group's labels, scored at or above the run's
// threshold, something of the box inside the frame), a colour per detectable, and the SVG of their boxes that is
// drawn over the extracted frame. Pure.
import { labelKey } from '../../shared/label-map.ts';
import { frameFileName } from '../lib/frame-images.ts';
import { matchFrames } from './frame-match.ts';
import type { Localizations } from './localizations.ts';
import { clipBox, type Box, type FrameMetric } from './metrics.ts';
import type { Run } from './store.ts';

export const BEST_FRAMES_DEFAULT = 12;
export const BEST_FRAMES_MAX = 60;

/**
 * Box colours, one per detectable of the det_group in the order of their names: saturated and far apart, so that
 * each stands out from the picture and from the others. A det_group with more detectables reuses them in turn.
 */
export const BOX_COLOURS = ['#00e5ff', '#ff2bd6', '#ffe600', '#2bff4a', '#ff7a00', '#8c6bff', '#ffffff', '#ff3b3b'] as const;

export interface Legend {
  readonly label: string;
  readonly color: string;
}

/** The det_group's detectable names (any order), each with its colour. */
export function legendOf(names: readonly string[]): Legend[] {
  const sorted = [...new Set(names.map((n) => n.trim()))].sort((a, b) => labelKey(a).localeCompare(labelKey(b)) || a.localeCompare(b));
  return sorted.map((label, i) => ({ label, color: BOX_COLOURS[i % BOX_COLOURS.length]! }));
}

/**
 * The `limit` frames with the highest effectiveness, highest first; equal effectiveness goes to the earlier frame.
 * A frame with effectiveness 0 shows nothing of the det_group and is never among them.
 */
export function rankFrames(frames: readonly FrameMetric[], limit: number): FrameMetric[] {
  return frames
    .filter((f) => f.effectiveness > 0)
    .sort((a, b) => b.effectiveness - a.effectiveness || a.frame - b.frame)
    .slice(0, limit);
}

export interface FrameDetection {
  readonly label: string;
  readonly score: number;
  /** As the localizations give it: [x, y, w, h] in pixels of the localizations' frame size, origin top left. */
  readonly box: Box;
  readonly color: string;
}

/**
 * The det_group's detections on the extracted frame at `time` (seconds): those of the localization frame matched
 * to it (matchFrames, as the metrics match them) that the metrics counted.
 */
export function frameDetections(localizations: Localizations, time: number, fps: number, legend: readonly Legend[], threshold: number): FrameDetection[] {
  const [match] = matchFrames([time], localizations.frames.map((f) => f.time), fps);
  if (match === undefined || match < 0) return [];
  const colours = new Map(legend.map((l) => [labelKey(l.label), l.color]));
  const out: FrameDetection[] = [];
  for (const d of localizations.frames[match]!.detections) {
    const color = colours.get(labelKey(d.label));
    if (color === undefined || !(d.score >= threshold) || !clipBox(d.box, localizations.width, localizations.height)) continue;
    out.push({ label: d.label, score: d.score, box: d.box, color });
  }
  return out;
}

/** The stroke of the boxes: an even width (centred on the box's edge, it covers whole pixels), thicker on larger frames. */
export const strokeWidth = (width: number, height: number): number => Math.max(2, 2 * Math.round(Math.min(width, height) / 360));

/**
 * An SVG of `image` size with the detections' boxes as outlines, each edged in dark on both sides. Boxes are in the localizations' frame size
 * (`frame`): scaled to the image's when the two differ, clipped to it, their edges on the box's edges.
 */
export function boxesSvg(image: { width: number; height: number }, frame: { width: number; height: number }, detections: readonly FrameDetection[]): string {
  const sx = image.width / frame.width;
  const sy = image.height / frame.height;
  const stroke = strokeWidth(image.width, image.height);
  const rects = detections.flatMap((d) => {
    const r = clipBox(d.box, frame.width, frame.height);
    if (!r) return [];
    const [x1, y1, x2, y2] = [r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy];
    const rect = `x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none"`;
    // a dark pixel either side of the colour keeps the outline visible on a background of the same colour
    return [`<rect ${rect} stroke="#000000" stroke-opacity="0.7" stroke-width="${stroke + 2}"/>`, `<rect ${rect} stroke="${d.color}" stroke-width="${stroke}"/>`];
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}" viewBox="0 0 ${image.width} ${image.height}">${rects.join('')}</svg>`;
}

/** Bump when the drawing changes: every frame drawn before is then drawn again. */
export const RENDER_FORMAT = 1;

/**
 * Where a frame drawn with a det_group's boxes is kept (the media bucket's `cache/`, which expires): keyed by the
 * results it shows (the run, and the time the det_group's series was computed), so results computed again, a newer
 * run released or a det_group replaced by another are drawn anew, never served from an older drawing.
 */
export function renderedFrameKey(k: { videoId: string; run: Run; detGroupId: string; computedAt: Date; frame: number }): string {
  return `cache/best-frames/v${RENDER_FORMAT}/${k.videoId}/${k.run ?? 'unnamed'}/${k.detGroupId}/${k.computedAt.getTime()}/${frameFileName(k.frame)}`;
}

// Frame-level brand-exposure metrics for one det_group (issue 3, "Metric definitions"). Pure.
//
// For frame f (W×H), det_group g, threshold θ:
//   B = boxes of detections in f whose label belongs to g and whose score >= θ, each clipped to the frame.
//   A box whose clipped area is zero (entirely outside the frame, or w or h = 0) is dropped from B: nothing of the
//   brand is on screen, so it adds nothing to count, score or centrality either.
//   count = |B|; area = |∪B| / (W·H); score = max score in B (0 if none);
//   centrality = max over B of 1 − d(b)/d₀ (d: centre of the clipped box to the frame centre, d₀: corner to centre;
//   0 if none); eventWeight = max weight of the events e with |t_f − t_e| <= window(e) (1 if none);
//   effectiveness = area · score · (0.5 + 0.5·centrality) · eventWeight.
import { labelKey } from '../../shared/label-map.ts';
import type { Box } from './localizations.ts';

export type { Box };

/** Slack for floating-point error at the inclusive edges of an event's window (seconds). */
export const EVENT_EPSILON = 1e-9;

export interface MetricDetection {
  readonly label: string;
  readonly score: number;
  readonly box: Box;
}

/** A game event with its event type's weight (>= 1) and window (seconds, >= 0). */
export interface EventWindow {
  readonly time: number;
  readonly weight: number;
  readonly windowSeconds: number;
}

export interface FrameMetrics {
  readonly count: number;
  readonly area: number;
  readonly score: number;
  readonly centrality: number;
  readonly eventWeight: number;
  readonly effectiveness: number;
}

export interface FrameMetric extends FrameMetrics {
  /** The extracted frame's number. */
  readonly frame: number;
  readonly time: number;
}

export interface FrameMetricsInput {
  readonly time: number;
  readonly width: number;
  readonly height: number;
  readonly detections: readonly MetricDetection[];
  /** The det_group's detectable names as `labelKey` gives them (trimmed, lower-cased). */
  readonly detGroupLabels: ReadonlySet<string>;
  readonly threshold: number;
  /** The game's events, or an EventWeights built once from them (faster for many frames). */
  readonly events: readonly EventWindow[] | EventWeights;
}

/**
 * The event weight as a step function of time: max weight of the closed windows [t_e − w, t_e + w] that contain
 * t, 1 outside every window. Built once per video in O(E log E); `at(t)` is a binary search, O(log E).
 */
export class EventWeights {
  /** Sorted distinct window edges. */
  private readonly points: Float64Array;
  /** The weight at points[i]. */
  private readonly atPoint: Float64Array;
  /** The weight on the open stretch (points[i], points[i+1]); the last entry is 1. */
  private readonly after: Float64Array;

  constructor(events: readonly EventWindow[]) {
    const windows = events.map((e, i) => {
      if (!Number.isFinite(e.time)) throw new RangeError(`events[${i}].time must be finite`);
      if (!(Number.isFinite(e.weight) && e.weight >= 1)) throw new RangeError(`events[${i}].weight must be >= 1, got ${e.weight}`);
      if (!(Number.isFinite(e.windowSeconds) && e.windowSeconds >= 0)) {
        throw new RangeError(`events[${i}].windowSeconds must be >= 0, got ${e.windowSeconds}`);
      }
      const reach = e.windowSeconds + EVENT_EPSILON;
      return { start: e.time - reach, end: e.time + reach, weight: e.weight };
    });
    const points = [...new Set(windows.flatMap((w) => [w.start, w.end]))].sort((a, b) => a - b);
    const byStart = windows.slice().sort((a, b) => a.start - b.start);
    this.points = Float64Array.from(points);
    this.atPoint = new Float64Array(points.length);
    this.after = new Float64Array(points.length);
    // Sweep the edges left to right with a max-heap of open windows by weight; windows that ended are dropped
    // lazily when they reach the top (the sweep only moves right, so an ended window never comes back).
    const heap = new MaxHeap<{ end: number; weight: number }>((a, b) => a.weight - b.weight);
    let next = 0;
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      while (next < byStart.length && byStart[next]!.start <= p) heap.push(byStart[next++]!);
      while (heap.size > 0 && heap.peek()!.end < p) heap.pop();
      this.atPoint[i] = heap.size > 0 ? heap.peek()!.weight : 1;
      while (heap.size > 0 && heap.peek()!.end <= p) heap.pop();
      this.after[i] = heap.size > 0 ? heap.peek()!.weight : 1;
    }
  }

  /** The event weight at time t (1 if no event's window covers it). */
  at(t: number): number {
    const points = this.points;
    // last i with points[i] <= t
    let lo = 0;
    let hi = points.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! <= t) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (i < 0) return 1;
    return points[i] === t ? this.atPoint[i]! : this.after[i]!;
  }
}

class MaxHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(a[i]!, a[parent]!) <= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let largest = i;
        if (l < a.length && this.compare(a[l]!, a[largest]!) > 0) largest = l;
        if (r < a.length && this.compare(a[r]!, a[largest]!) > 0) largest = r;
        if (largest === i) break;
        [a[i], a[largest]] = [a[largest]!, a[i]!];
        i = largest;
      }
    }
    return top;
  }
}

/** A clipped box as edges: left, top, right, bottom. */
export type Rect = readonly [x1: number, y1: number, x2: number, y2: number];

/** The box clipped to a W×H frame, or undefined when nothing of it is left (zero area). */
export function clipBox(box: Box, width: number, height: number): Rect | undefined {
  const [x, y, w, h] = box;
  const x1 = Math.max(0, x);
  const y1 = Math.max(0, y);
  const x2 = Math.min(width, x + w);
  const y2 = Math.min(height, y + h);
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : undefined;
}

/**
 * The exact area of a union of rectangles: the x axis is cut at every left and right edge; within each slab the
 * y intervals of the rectangles that span it are merged. O(n²) after an O(n log n) sort, for the handful of
 * boxes a frame has. Written by hand: no maintained npm package does this for plain rectangles.
 */
export function unionArea(rects: readonly Rect[]): number {
  const n = rects.length;
  if (n === 0) return 0;
  if (n === 1) {
    const [x1, y1, x2, y2] = rects[0]!;
    return (x2 - x1) * (y2 - y1);
  }
  const byTop = rects.slice().sort((a, b) => a[1] - b[1]);
  const xs = [...new Set(rects.flatMap((r) => [r[0], r[2]]))].sort((a, b) => a - b);
  let area = 0;
  for (let i = 0; i + 1 < xs.length; i++) {
    const left = xs[i]!;
    const right = xs[i + 1]!;
    let covered = 0;
    let runStart = 0;
    let runEnd = Number.NEGATIVE_INFINITY;
    for (const [x1, y1, x2, y2] of byTop) {
      if (x1 > left || x2 < right) continue; // does not span this slab
      if (y1 > runEnd) {
        if (runEnd > runStart) covered += runEnd - runStart;
        runStart = y1;
        runEnd = y2;
      } else if (y2 > runEnd) runEnd = y2;
    }
    if (runEnd > runStart) covered += runEnd - runStart;
    area += covered * (right - left);
  }
  return area;
}

/** The metrics of one frame for one det_group. */
export function frameMetrics(input: FrameMetricsInput): FrameMetrics {
  const { width, height, detGroupLabels, threshold } = input;
  checkFrame(width, height, threshold);
  const eventWeight = input.events instanceof EventWeights ? input.events.at(input.time) : new EventWeights(input.events).at(input.time);
  return measure(input.detections, width, height, threshold, eventWeight, (label) => detGroupLabels.has(labelKey(label)));
}

function checkFrame(width: number, height: number, threshold: number): void {
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new RangeError(`the frame size must be positive, got ${width}×${height}`);
  }
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold must be in [0, 1], got ${threshold}`);
}

const EMPTY: readonly MetricDetection[] = [];

function measure(
  detections: readonly MetricDetection[],
  width: number,
  height: number,
  threshold: number,
  eventWeight: number,
  inGroup: (label: string) => boolean,
): FrameMetrics {
  const rects: Rect[] = [];
  let score = 0;
  let centrality = 0;
  const cx = width / 2;
  const cy = height / 2;
  const d0 = Math.hypot(cx, cy);
  for (const d of detections) {
    if (!(d.score >= threshold) || !inGroup(d.label)) continue;
    const r = clipBox(d.box, width, height);
    if (!r) continue;
    rects.push(r);
    if (d.score > score) score = d.score;
    const c = 1 - Math.hypot((r[0] + r[2]) / 2 - cx, (r[1] + r[3]) / 2 - cy) / d0;
    if (c > centrality) centrality = c;
  }
  const area = Math.min(1, unionArea(rects) / (width * height));
  return {
    count: rects.length,
    area,
    score,
    centrality,
    eventWeight,
    effectiveness: area * score * (0.5 + 0.5 * centrality) * eventWeight,
  };
}

export interface ExtractedFrame {
  readonly frame: number;
  readonly time: number;
}

export interface FrameSeriesInput {
  /** The localizations (width, height and frames as parseLocalizations gives them). */
  readonly localizations: {
    readonly width: number;
    readonly height: number;
    readonly frames: readonly { readonly detections: readonly MetricDetection[] }[];
  };
  /** Every extracted frame, in order. */
  readonly extracted: readonly ExtractedFrame[];
  /** Per extracted frame, the index of its localization frame or -1 (matchFrames). */
  readonly matches: readonly number[];
  readonly detGroupLabels: ReadonlySet<string>;
  readonly threshold: number;
  readonly events: readonly EventWindow[] | EventWeights;
}

/**
 * The frame series of one det_group: every extracted frame with the metrics of its matched localization frame
 * (a frame without a match has no detections: count 0, area 0, effectiveness 0; its eventWeight is still given).
 */
export function computeFrameSeries(input: FrameSeriesInput): FrameMetric[] {
  const { localizations, extracted, matches, detGroupLabels, threshold } = input;
  const { width, height } = localizations;
  checkFrame(width, height, threshold);
  if (matches.length !== extracted.length) {
    throw new RangeError(`matches has ${matches.length} entries for ${extracted.length} extracted frames`);
  }
  const events = input.events instanceof EventWeights ? input.events : new EventWeights(input.events);
  // The same few labels recur on every frame: decide each once.
  const membership = new Map<string, boolean>();
  const inGroup = (label: string): boolean => {
    let member = membership.get(label);
    if (member === undefined) membership.set(label, (member = detGroupLabels.has(labelKey(label))));
    return member;
  };
  const series = new Array<FrameMetric>(extracted.length);
  for (let i = 0; i < extracted.length; i++) {
    const { frame, time } = extracted[i]!;
    const match = matches[i]!;
    let detections = EMPTY;
    if (match >= 0) {
      const lf = localizations.frames[match];
      if (!lf) throw new RangeError(`matches[${i}] = ${match} is not a localization frame`);
      detections = lf.detections;
    }
    series[i] = { frame, time, ...measure(detections, width, height, threshold, events.at(time), inGroup) };
  }
  return series;
}

// Everything one ingest computes for one video, per det_group: the frame series and its rollups. Pure.
import { frameTime } from '../lib/frame-rate.ts';
import { matchFrames } from './frame-match.ts';
import { computeFrameSeries, EventWeights, type EventWindow, type FrameMetric, type MetricDetection } from './metrics.ts';
import { RESOLUTIONS, rollup, type Bucket, type Resolution } from './rollup.ts';

export interface DetGroupLabels {
  readonly detGroupId: string;
  /** Names of the det_group's detectables, trimmed and lower-cased. */
  readonly labels: ReadonlySet<string>;
}

export interface VideoResults {
  readonly detGroupId: string;
  readonly series: FrameMetric[];
  readonly rollups: ReadonlyMap<Resolution, Bucket[]>;
}

export interface VideoInput {
  readonly localizations: {
    readonly width: number;
    readonly height: number;
    readonly frames: readonly { readonly time: number; readonly detections: readonly MetricDetection[] }[];
  };
  /** Frames extracted; frame n is at n / fps seconds. */
  readonly frameCount: number;
  readonly fps: number;
  readonly threshold: number;
  readonly events: readonly EventWindow[];
}

/** Frame n of the extraction is at n / fps: the fps filter's output timestamps. */
export const extractedFrames = (frameCount: number, fps: number) =>
  Array.from({ length: frameCount }, (_, frame) => ({ frame, time: frameTime(frame, fps) }));

export function computeVideoResults(input: VideoInput, detGroups: readonly DetGroupLabels[]): VideoResults[] {
  const extracted = extractedFrames(input.frameCount, input.fps);
  const matches = matchFrames(
    extracted.map((f) => f.time),
    input.localizations.frames.map((f) => f.time),
    input.fps,
  );
  const events = new EventWeights(input.events);
  return detGroups.map((g) => {
    const series = computeFrameSeries({
      localizations: input.localizations,
      extracted,
      matches,
      detGroupLabels: g.labels,
      threshold: input.threshold,
      events,
    });
    return { detGroupId: g.detGroupId, series, rollups: new Map(RESOLUTIONS.map((r) => [r, rollup(series, input.fps, r)])) };
  });
}

// `framewise metrics --video <id> --det-group <id> --resolution 1|10|60|video [--json]`: one rollup of a
// video's brand exposure for a det_group, as a table (start as mm:ss) or as the API's JSON.
import { InputError, run, table, type CommandContext } from './common.ts';

export const RESOLUTIONS = ['1', '10', '60', 'video'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface MetricsOptions {
  readonly video: string;
  readonly detGroup: string;
  readonly resolution: string;
  readonly json?: boolean;
}

/** One bucket of a rollup, as GET /v1/videos/{id}/metrics answers it. */
export interface MetricsBucket {
  readonly start: number;
  readonly frames: number;
  readonly visibleFrames: number;
  readonly exposureSeconds: number;
  readonly detections: number;
  readonly meanArea: number;
  readonly maxArea: number;
  readonly meanEffectiveness: number;
  readonly sumEffectiveness: number;
}

export interface Metrics {
  readonly videoId: string;
  readonly detGroupId: string;
  readonly resolution: number | string;
  readonly frameRate: number;
  readonly buckets: readonly MetricsBucket[];
}

/** Seconds as mm:ss (minutes keep counting past 59: 3725 s is 62:05). */
export function mmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** A fraction of the frame as a percentage with two decimals. */
const pct = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

export function metricsTable(m: Metrics): string[] {
  const rows = m.buckets.map((b) => [
    mmss(b.start),
    String(b.frames),
    String(b.visibleFrames),
    b.exposureSeconds.toFixed(1),
    String(b.detections),
    pct(b.meanArea),
    pct(b.maxArea),
    b.meanEffectiveness.toFixed(4),
    b.sumEffectiveness.toFixed(3),
  ]);
  const header = ['start', 'frames', 'visible', 'exposure s', 'detections', 'mean area', 'max area', 'mean eff.', 'sum eff.'];
  const lines = [
    `video ${m.videoId}, det_group ${m.detGroupId}, resolution ${m.resolution === 'video' ? 'whole video' : `${m.resolution} s`}, ${m.frameRate} fps`,
  ];
  if (m.buckets.length === 0) return [...lines, 'no frames'];
  const sum = (f: (b: MetricsBucket) => number) => m.buckets.reduce((acc, b) => acc + f(b), 0);
  const frames = sum((b) => b.frames);
  const totals =
    m.buckets.length > 1
      ? [
          [
            'total',
            String(frames),
            String(sum((b) => b.visibleFrames)),
            sum((b) => b.exposureSeconds).toFixed(1),
            String(sum((b) => b.detections)),
            pct(frames > 0 ? sum((b) => b.meanArea * b.frames) / frames : 0),
            pct(Math.max(...m.buckets.map((b) => b.maxArea))),
            (frames > 0 ? sum((b) => b.sumEffectiveness) / frames : 0).toFixed(4),
            sum((b) => b.sumEffectiveness).toFixed(3),
          ],
        ]
      : [];
  return [...lines, ...table([header, ...rows, ...totals], new Set([1, 2, 3, 4, 5, 6, 7, 8]))];
}

export function runMetrics(opts: MetricsOptions, ctx: CommandContext): Promise<number> {
  const { output } = ctx;
  return run(output, opts, async () => {
    if (!(RESOLUTIONS as readonly string[]).includes(opts.resolution)) {
      throw new InputError(`--resolution must be one of ${RESOLUTIONS.join(', ')}, got ${JSON.stringify(opts.resolution)}`);
    }
    const query = new URLSearchParams({ detGroup: opts.detGroup, resolution: opts.resolution });
    const metrics = await ctx.api.get<Metrics>(`/v1/videos/${encodeURIComponent(opts.video)}/metrics?${query}`);
    if (opts.json) output.out(JSON.stringify(metrics, null, 2));
    else for (const line of metricsTable(metrics)) output.out(line);
    return { kind: 'done' };
  });
}

// The wall time and the cost of one game's ingest on AWS, modelled from what the cost bench measures on this machine
// (per-segment extraction times, the other steps' durations, the requests a segment makes) and from the assumptions
// below, each stated with why. Pure: `npm run bench:cost` feeds it measurements; the unit tests feed it figures.
//
// Upload complete to metrics on AWS = the notification that starts the ingest, then the workflow's states in order:
// probe, localizations, plan, the ExtractFrames Map, metrics, the outcome. The Map runs `segments` items at most
// `concurrency` at once, each on its own instance: ceil(segments / concurrency) waves of the largest segment's time,
// the first wave on new instances (a cold start each).
import { threadsForMemory } from '../functions/ingest/extract.ts';
import { planSegments, wantedSegments } from '../functions/ingest/segments.ts';

/** What is assumed, not measured: each figure with why. */
export const ASSUMED = {
  /** A new ingest-frames instance: Node's runtime, the bundle's init and the ffmpeg layer's files (Node on a zip: 0.3-1 s is usual; the upper end for the layer). */
  coldStartSeconds: 1,
  /** Step Functions between a Task state and the next (scheduling the Lambda invoke and taking its result): tens of ms in Standard workflows. */
  stateSeconds: 0.05,
  /** Each Map iteration's own start inside the Map (its ItemSelector, its history events), besides its Task's state. */
  mapIterationSeconds: 0.02,
  /** S3 event notification to SQS, the ingest-upload poll and StartExecution: S3 notifications typically arrive within a second. */
  notificationSeconds: 1,
  /** One S3 GET stream into one Lambda instance: ffmpeg's range reads of the source, sequential (a single connection reaches 50-100 MB/s). */
  s3ReadMBps: 75,
  /** One PUT of a segment's frame pack from one instance (a single-stream upload, as the read). */
  s3WriteMBps: 50,
  /** Lambda's CPU: one vCPU per 1,769 MB of memory, at most 6 (Lambda's documented ratio). */
  lambdaMbPerVcpu: 1769,
  /**
   * A core of this machine does the work of one Lambda vCPU (both are x86 server cores of similar clock). ffmpeg runs
   * one thread per whole vCPU of the function's share (threadsForMemory), so it uses the smaller of the two; the
   * segments are measured with `-threads 1` on one core of this machine.
   */
  vcpuPerCore: 1,
  /** Concurrent iterations of an inline Map at most, whatever its MaxConcurrency (Step Functions' documented limit). */
  inlineMapConcurrency: 40,
  /** Lambda concurrency of the account in a region: the default quota. */
  accountConcurrency: 1000,
  /** Concurrency Lambda keeps unreserved in an account: no function may reserve it. */
  unreservedMinimum: 100,
} as const;

/** Time of one segment's extraction on one core, uncontended: fixed + perFrame · frames (least squares). */
export interface SegmentTime {
  readonly fixedSeconds: number;
  readonly perFrameSeconds: number;
}

export function fitSegmentTime(points: readonly { frames: number; seconds: number }[]): SegmentTime {
  if (points.length < 2 || new Set(points.map((p) => p.frames)).size < 2) throw new RangeError('a fit needs segments of at least two sizes');
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.frames, 0) / n;
  const my = points.reduce((s, p) => s + p.seconds, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.frames - mx) * (p.seconds - my), 0);
  const sxx = points.reduce((s, p) => s + (p.frames - mx) ** 2, 0);
  const perFrameSeconds = sxy / sxx;
  // A fixed time below zero is noise around a small one: the model never credits a segment for existing.
  return { fixedSeconds: Math.max(0, my - perFrameSeconds * mx), perFrameSeconds };
}

/** A step of the ingest other than the Map, as measured in the run: its duration and how it grows with the game. */
export interface MeasuredStep {
  readonly fn: string;
  readonly seconds: number;
  readonly memoryMb: number;
  /** 'frames': in proportion to the frames (metrics); 'duration': to the video's length (localizations); 'fixed'. */
  readonly scales: 'frames' | 'duration' | 'fixed';
}

export interface Measured {
  readonly segment: SegmentTime;
  /** The measured run's video: its length and frames (what the steps scale from). */
  readonly run: { readonly seconds: number; readonly frames: number };
  /** In workflow order; the Map goes between `before` and `after`. */
  readonly before: readonly MeasuredStep[];
  readonly after: readonly MeasuredStep[];
  /** ingest-upload (starts the workflow on the notification): duration and memory. */
  readonly start: MeasuredStep;
  /** S3 GETs ffmpeg makes to read one segment from a presigned URL (range reads), counted. */
  readonly getsPerSegment: number;
  /** State transitions of one ingest besides the Map's iterations, counted; each iteration adds `transitionsPerIteration`. */
  readonly transitionsFixed: number;
  readonly transitionsPerIteration: number;
  /** Bytes of the source video per second of it, and of a frame as stored. */
  readonly sourceBytesPerSecond: number;
  readonly frameBytes: number;
}

/** A segment plan: at most `maxFramesPerSegment` frames a segment; the Map and the function run `concurrency` at once. */
export interface Plan {
  readonly maxFramesPerSegment: number;
  readonly concurrency: number;
}

export interface Prices {
  readonly lambdaGbSecond: number;
  readonly lambdaRequest: number;
  readonly transition: number;
  /** The frame pack's PUT (written in its storage class). */
  readonly packPut: number;
  /** A GET of the source video (S3 Standard its first day). */
  readonly sourceGet: number;
}

export interface Game {
  readonly seconds: number;
  readonly fps: number;
  /** ingest-frames' memory. */
  readonly framesMemoryMb: number;
}

export interface Modelled {
  readonly plan: Plan;
  readonly segments: number;
  readonly waves: number;
  readonly framesPerSegment: number;
  /** One segment on AWS: CPU at the vCPU share, the source read, the pack's upload. */
  readonly segmentSeconds: number;
  readonly wallSeconds: number;
  /** Upload complete to metrics, by part. */
  readonly wall: Readonly<Record<'notification' | 'before' | 'map' | 'after' | 'states', number>>;
  readonly cost: {
    readonly lambdaGbS: number;
    readonly invocations: number;
    readonly transitions: number;
    readonly packPuts: number;
    readonly sourceGets: number;
    readonly usd: number;
    /** Of `usd`: what each segment costs besides its frames' CPU (cold start, fixed time, transition, requests), all segments. */
    readonly perSegmentOverheadUsd: number;
  };
}

const scaleOf = (s: MeasuredStep, game: Game, m: Measured, frames: number): number =>
  s.scales === 'frames' ? frames / m.run.frames : s.scales === 'duration' ? game.seconds / m.run.seconds : 1;

export function vcpuAt(memoryMb: number): number {
  return Math.min(6, memoryMb / ASSUMED.lambdaMbPerVcpu);
}

/** The wall time and the cost of one game ingested with `plan`. */
export function modelIngest(game: Game, plan: Plan, m: Measured, prices: Prices): Modelled {
  const segmentPlan = planSegments({
    durationSeconds: game.seconds,
    fps: game.fps,
    segments: wantedSegments(game.seconds, plan.concurrency),
    maxFramesPerSegment: plan.maxFramesPerSegment,
  });
  const frames = segmentPlan.frameCount;
  const segments = segmentPlan.segments.length;
  const concurrency = Math.min(plan.concurrency, ASSUMED.inlineMapConcurrency);
  const waves = Math.ceil(segments / concurrency);
  const framesPerSegment = Math.max(...segmentPlan.segments.map((s) => s.frameCount));

  const share = Math.min(vcpuAt(game.framesMemoryMb), threadsForMemory(game.framesMemoryMb)) * ASSUMED.vcpuPerCore;
  const segmentTime = (k: number) => {
    const cpu = (m.segment.fixedSeconds + m.segment.perFrameSeconds * k) / share;
    const read = (((k / game.fps) * m.sourceBytesPerSecond) / 1e6) / ASSUMED.s3ReadMBps;
    const write = ((k * m.frameBytes) / 1e6) / ASSUMED.s3WriteMBps;
    // ffmpeg decodes as the bytes arrive: the slower of the two bounds it; the pack is written after.
    return Math.max(cpu, read) + write;
  };
  const segmentSeconds = segmentTime(framesPerSegment);
  const stepSeconds = (s: MeasuredStep) => s.seconds * scaleOf(s, game, m, frames);
  const before = m.before.reduce((t, s) => t + stepSeconds(s), 0);
  const after = m.after.reduce((t, s) => t + stepSeconds(s), 0);
  const map = ASSUMED.coldStartSeconds + waves * (ASSUMED.mapIterationSeconds + segmentSeconds);
  const states = (m.before.length + 1 + m.after.length) * ASSUMED.stateSeconds;
  const notification = ASSUMED.notificationSeconds + m.start.seconds;
  const wallSeconds = notification + before + map + after + states;

  // Cost: every invocation's GB-s at its memory (a new instance's INIT is billed since August 2025), the requests,
  // the transitions, and the S3 requests of each segment.
  const gb = game.framesMemoryMb / 1024;
  const instances = Math.min(segments, concurrency);
  const framesGbS = segmentPlan.segments.reduce((s, seg) => s + segmentTime(seg.frameCount), 0) * gb + instances * ASSUMED.coldStartSeconds * gb;
  const otherGbS = [m.start, ...m.before, ...m.after].reduce((s, st) => s + stepSeconds(st) * (st.memoryMb / 1024), 0);
  const lambdaGbS = framesGbS + otherGbS;
  const invocations = segments + 1 + m.before.length + m.after.length;
  const transitions = m.transitionsFixed + segments * m.transitionsPerIteration;
  const sourceGets = segments * m.getsPerSegment;
  const usd =
    lambdaGbS * prices.lambdaGbSecond + invocations * prices.lambdaRequest + transitions * prices.transition + segments * prices.packPut + sourceGets * prices.sourceGet;
  const fixedGbS = (segments * (m.segment.fixedSeconds / share) + instances * ASSUMED.coldStartSeconds) * gb;
  const perSegmentOverheadUsd =
    fixedGbS * prices.lambdaGbSecond + segments * (prices.lambdaRequest + m.transitionsPerIteration * prices.transition + prices.packPut + m.getsPerSegment * prices.sourceGet);

  return {
    plan,
    segments,
    waves,
    framesPerSegment,
    segmentSeconds,
    wallSeconds,
    wall: { notification, before, map, after, states },
    cost: { lambdaGbS, invocations, transitions, packPuts: segments, sourceGets, usd, perSegmentOverheadUsd },
  };
}

/** The highest concurrency the ingest-frames Map may run: the inline Map's limit, and what the account can reserve. */
export function concurrencyBound(otherReserved: number): { bound: number; why: string } {
  const reservable = ASSUMED.accountConcurrency - ASSUMED.unreservedMinimum - otherReserved;
  return reservable < ASSUMED.inlineMapConcurrency
    ? { bound: reservable, why: `the account's ${ASSUMED.accountConcurrency} less ${ASSUMED.unreservedMinimum} kept unreserved and ${otherReserved} reserved by other functions` }
    : { bound: ASSUMED.inlineMapConcurrency, why: `an inline Map runs at most ${ASSUMED.inlineMapConcurrency} iterations at once (the account could reserve ${reservable})` };
}

/**
 * Every plan of the grid, modelled; the chosen one is the fastest whose cost stays under `ceilingUsd` (ties: the
 * cheaper, then the larger maxFramesPerSegment, which keeps longer games in one wave). Sorted best first.
 */
export function searchPlans(
  game: Game,
  m: Measured,
  prices: Prices,
  o: { ceilingUsd: number; maxConcurrency: number; framesPerSegmentGrid: readonly number[] },
): { ranked: Modelled[]; overCeiling: number } {
  const all: Modelled[] = [];
  for (let concurrency = 1; concurrency <= o.maxConcurrency; concurrency++) {
    for (const maxFramesPerSegment of o.framesPerSegmentGrid) all.push(modelIngest(game, { maxFramesPerSegment, concurrency }, m, prices));
  }
  const under = all.filter((p) => p.cost.usd <= o.ceilingUsd);
  const ms = (s: number) => Math.round(s * 1000);
  under.sort(
    (a, b) =>
      ms(a.wallSeconds) - ms(b.wallSeconds) || a.cost.usd - b.cost.usd || b.plan.maxFramesPerSegment - a.plan.maxFramesPerSegment || a.plan.concurrency - b.plan.concurrency,
  );
  return { ranked: under, overCeiling: all.length - under.length };
}

// `framewise ingest --video <id> --file game.mp4 --localizations loc.json [--label-mapping FILE]
//                  [--frame-rate 5] [--threshold 0.5] [--no-follow]`
// 1. checks the local inputs; 2. uploads the localizations (with the parsed label map); 3. uploads the video
// with a progress bar, continuing the upload an interrupted run of the same file left open; 4. waits until the pipeline has a job for the upload; 5. follows the job;
// 6. ends with one status line (success / failure / error) and its exit code.
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import { ApiError } from '../api.ts';
import type { Job } from '../progress.ts';
import { OpenUploads, uploadKey } from '../resume.ts';
import { uploadFile, type UploadPlan } from '../upload.ts';
import {
  abortable, finish, formatBytes, InputError, Interrupted, outcomeOf, sleep, timingOf, UploadError,
  type CommandContext, type Output,
} from './common.ts';
import { followJob, jobDisplay } from './job.ts';
import { readLabelMapping } from './labels.ts';

export interface IngestOptions {
  readonly video: string;
  readonly file: string;
  readonly localizations: string;
  readonly labelMapping?: string;
  readonly frameRate?: number | string;
  readonly threshold?: number | string;
  /** false: stop once the pipeline has received the upload (`--no-follow`). */
  readonly follow?: boolean;
}

export const DEFAULT_FRAME_RATE = 5;
export const DEFAULT_THRESHOLD = 0.5;
export const MAX_FRAME_RATE = 60;
/** A job counts as the upload's when created no earlier than this before the upload began (clock skew). */
export const CLOCK_SKEW_MS = 120_000;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/x-m4v',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.ts': 'video/mp2t',
  '.mts': 'video/mp2t',
  '.m2ts': 'video/mp2t',
  '.mpg': 'video/mpeg',
  '.mpeg': 'video/mpeg',
  '.wmv': 'video/x-ms-wmv',
  '.flv': 'video/x-flv',
  '.3gp': 'video/3gpp',
  '.ogv': 'video/ogg',
};

/** The content type of a video file from its extension (case-insensitive); application/octet-stream if unknown. */
export function contentTypeFor(filename: string): string {
  return CONTENT_TYPES[extname(filename).toLowerCase()] ?? 'application/octet-stream';
}

const toNumber = (v: number | string | undefined, fallback: number): number =>
  v === undefined ? fallback : typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v);

/** Checks --frame-rate and --threshold: the numbers, or the problems with them. Pure. */
export function checkNumbers(opts: Pick<IngestOptions, 'frameRate' | 'threshold'>): { frameRate: number; threshold: number; issues: string[] } {
  const frameRate = toNumber(opts.frameRate, DEFAULT_FRAME_RATE);
  const threshold = toNumber(opts.threshold, DEFAULT_THRESHOLD);
  const issues: string[] = [];
  if (!Number.isFinite(frameRate) || frameRate <= 0 || frameRate > MAX_FRAME_RATE) {
    issues.push(`--frame-rate must be a number with 0 < rate <= ${MAX_FRAME_RATE}, got ${JSON.stringify(String(opts.frameRate))}`);
  }
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    issues.push(`--threshold must be a number from 0 to 1, got ${JSON.stringify(String(opts.threshold))}`);
  }
  return { frameRate, threshold, issues };
}

async function fileSize(path: string, what: string, issues: string[]): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) issues.push(`${what} ${path} is not a file`);
    else if (s.size === 0) issues.push(`${what} ${path} is empty`);
    return s.size;
  } catch (err) {
    issues.push(`${what} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return 0;
  }
}

export interface IngestInputs {
  readonly videoSize: number;
  readonly localizationsSize: number;
  readonly frameRate: number;
  readonly threshold: number;
  readonly labelMapping?: Record<string, string>;
}

/** Checks every local input before anything is sent; throws one InputError that lists every problem. */
export async function checkIngestInputs(opts: IngestOptions): Promise<IngestInputs> {
  const { frameRate, threshold, issues } = checkNumbers(opts);
  if (!opts.video?.trim()) issues.push('--video needs the id of a video');
  const videoSize = await fileSize(opts.file, 'the video file', issues);
  const localizationsSize = await fileSize(opts.localizations, 'the localizations file', issues);
  if (localizationsSize > 0) {
    // only that it is a JSON object: the pipeline validates the rest and reports every problem
    try {
      const parsed = JSON.parse(await readFile(opts.localizations, 'utf8')) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        issues.push(`the localizations file ${opts.localizations} must hold a JSON object ({ "video": ..., "frames": [...] })`);
      }
    } catch (err) {
      issues.push(`the localizations file ${opts.localizations} is not JSON: ${(err as Error).message}`);
    }
  }
  let labelMapping: Record<string, string> | undefined;
  if (opts.labelMapping !== undefined) {
    try {
      const map = await readLabelMapping(opts.labelMapping);
      labelMapping = Object.fromEntries([...map].map(([i, l]) => [String(i), l]));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      issues.push(err.message, ...err.details.map((d) => `  ${d}`));
    }
  }
  if (issues.length > 0) throw new InputError('the inputs are not usable; nothing was sent', issues);
  return { videoSize, localizationsSize, frameRate, threshold, ...(labelMapping && { labelMapping }) };
}

// ---- upload with progress ----

export interface UploadProgress {
  update(sentBytes: number): void;
  stop(): void;
}

/** The 10% marks (10, 20, …, 100) passed on the way from `prevSent` to `sent` bytes of `total`. Pure. */
export function crossedTenths(prevSent: number, sent: number, total: number): number[] {
  if (total <= 0) return [];
  const tenth = (n: number) => Math.min(10, Math.floor((n / total) * 10));
  const marks: number[] = [];
  for (let t = tenth(prevSent) + 1; t <= tenth(sent); t++) marks.push(t * 10);
  return marks;
}

const rate = (bytes: number, ms: number): string => `${formatBytes(ms > 0 ? Math.round((bytes * 1000) / ms) : 0)}/s`;

/**
 * A progress display for one upload: a cli-progress bar (bytes, speed, ETA) on a terminal, otherwise a line at
 * every 10%, so logs and pipes stay readable.
 */
export function uploadProgress(output: Output, label: string, total: number, now: () => number = Date.now): UploadProgress {
  const started = now();
  if (output.terminal) {
    const bar = new SingleBar({
      stream: output.terminal,
      format: `${label.padEnd(13)} [{bar}] {percentage}% | {sent} of {size} | {speed} | ETA {eta_formatted}`,
      barsize: 30,
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    });
    const payload = (sent: number) => ({ sent: formatBytes(sent), size: formatBytes(total), speed: rate(sent, now() - started) });
    bar.start(total, 0, payload(0));
    return {
      update: (sent) => bar.update(sent, payload(sent)),
      stop: () => bar.stop(),
    };
  }
  let prev = 0;
  return {
    update(sent) {
      // one line when one or more 10% marks were passed (a single PUT passes them all at once)
      if (crossedTenths(prev, sent, total).length > 0) {
        const pct = Math.min(100, Math.floor((sent / total) * 100));
        output.out(`${label}: ${pct}% (${formatBytes(Math.min(sent, total))} of ${formatBytes(total)}, ${rate(sent, now() - started)})`);
      }
      prev = Math.max(prev, sent);
    },
    stop: () => undefined,
  };
}

interface UploadTarget {
  readonly label: string;
  readonly file: string;
  readonly size: number;
  readonly startPath: string;
  readonly startBody: Record<string, unknown>;
  readonly completePath: string;
  /** Continues an open multipart upload (POST { uploadId }): set for uploads that resume when run again. */
  readonly resume?: { readonly path: string; readonly key: string; readonly uploads: OpenUploads };
}

/** The open upload recorded for this file, continued; undefined when there is none or storage no longer has it. */
async function resumed(target: UploadTarget, ctx: CommandContext): Promise<UploadPlan | undefined> {
  if (!target.resume) return undefined;
  const open = await target.resume.uploads.get(target.resume.key);
  if (!open) return undefined;
  let plan: UploadPlan | undefined;
  try {
    plan = await abortable(ctx.api.post<UploadPlan>(target.resume.path, { uploadId: open.uploadId }), ctx.signal);
  } catch (err) {
    // completed, aborted or refused meanwhile: start a new upload
    if (!(err instanceof ApiError) || ![400, 404, 409].includes(err.status)) throw err;
  }
  // another upload of the video (another size) was started since: this one cannot be completed
  if (plan?.sizeBytes === target.size) return plan;
  await target.resume.uploads.delete(target.resume.key);
  return undefined;
}

/**
 * Asks the API for an upload plan (or continues the open upload of the same file), sends the file per the plan
 * with retries, completes a multipart upload.
 */
async function uploadTo(target: UploadTarget, ctx: CommandContext): Promise<UploadPlan> {
  const plan = (await resumed(target, ctx)) ?? (await abortable(ctx.api.post<UploadPlan>(target.startPath, target.startBody), ctx.signal));
  if (plan.method === 'multipart' && target.resume) await target.resume.uploads.set(target.resume.key, plan.uploadId);
  const renew = () =>
    plan.method === 'multipart' && target.resume
      ? ctx.api.post<UploadPlan>(target.resume.path, { uploadId: plan.uploadId })
      : ctx.api.post<UploadPlan>(target.startPath, target.startBody);
  const progress = uploadProgress(ctx.output, target.label, target.size, ctx.now);
  let parts;
  try {
    parts = await abortable(
      uploadFile(plan, target.file, (sent) => progress.update(sent), {
        renew: plan.method === 'multipart' && !target.resume ? undefined : renew,
        signal: ctx.signal,
        onResume: (held) =>
          ctx.output.out(
            `${target.label}: resuming: ${held.parts} of ${held.of} parts (${formatBytes(held.bytes)}) already in storage; ` +
              `sending the other ${held.of - held.parts}`,
          ),
      }),
      ctx.signal,
    );
  } catch (err) {
    if (err instanceof Interrupted || err instanceof ApiError) throw err;
    const again = plan.method === 'multipart' && target.resume ? '; run the same command again to continue the upload' : '';
    throw new UploadError(`sending the ${target.label} to storage failed: ${(err as Error).message}${again}`);
  } finally {
    progress.stop();
  }
  if (plan.method === 'multipart') {
    await abortable(ctx.api.post(target.completePath, { uploadId: plan.uploadId, parts }), ctx.signal);
    await target.resume?.uploads.delete(target.resume.key);
  }
  return plan;
}

// ---- receipt ----

interface JobList {
  jobs: Job[];
}

const jobsOfVideo = (videoId: string) => `/v1/jobs?${new URLSearchParams({ videoId, limit: '10' })}`;

/**
 * The job that a new upload of `videoId` started: one of that video's jobs that was not there before the upload
 * (`known`) and was created after it began (allowing for clock skew); the newest if several. Pure.
 */
export function findNewJob(jobs: readonly Job[], videoId: string, known: ReadonlySet<string>, sinceMs: number): Job | undefined {
  const created = (j: Job) => (j.createdAt ? Date.parse(j.createdAt) : Number.NaN);
  return jobs
    .filter((j) => j.videoId === videoId && !known.has(j.jobId))
    .filter((j) => Number.isNaN(created(j)) || created(j) >= sinceMs - CLOCK_SKEW_MS)
    .sort((a, b) => (created(b) || 0) - (created(a) || 0))[0];
}

/** Polls the video's jobs until the upload's job appears; undefined when it does not in time. */
async function awaitReceipt(videoId: string, known: ReadonlySet<string>, sinceMs: number, ctx: CommandContext): Promise<Job | undefined> {
  const timing = timingOf(ctx);
  const now = ctx.now ?? Date.now;
  const deadline = now() + timing.receiptTimeoutMs;
  for (;;) {
    try {
      const { jobs } = await abortable(ctx.api.get<JobList>(jobsOfVideo(videoId)), ctx.signal);
      const job = findNewJob(jobs, videoId, known, sinceMs);
      if (job) return job;
    } catch (err) {
      // the API may blink while we wait; a refusal (4xx) is final
      if (!(err instanceof ApiError) || !(err.status === 0 || err.status === 429 || err.status >= 500)) throw err;
      if (now() >= deadline) throw err;
    }
    if (now() >= deadline) return undefined;
    await sleep(timing.receiptPollMs, ctx.signal);
  }
}

// ---- the command ----

export async function runIngest(opts: IngestOptions, ctx: CommandContext): Promise<number> {
  const { output, api } = ctx;
  const now = ctx.now ?? Date.now;
  let jobId: string | undefined;
  let uploadedVideoId: string | undefined;
  try {
    const inputs = await checkIngestInputs(opts);
    const video = encodeURIComponent(opts.video.trim());
    const videoId = opts.video.trim();

    // the jobs this video already has, so that the new upload's job is told apart
    const before = await abortable(api.get<JobList>(jobsOfVideo(videoId)), ctx.signal);
    const known = new Set(before.jobs.map((j) => j.jobId));

    await uploadTo(
      {
        label: 'localizations',
        file: opts.localizations,
        size: inputs.localizationsSize,
        startPath: `/v1/videos/${video}/localizations/upload`,
        startBody: { sizeBytes: inputs.localizationsSize, ...(inputs.labelMapping && { labelMapping: inputs.labelMapping }) },
        completePath: `/v1/videos/${video}/localizations/upload/complete`,
      },
      ctx,
    );
    output.out(`localizations: uploaded ${formatBytes(inputs.localizationsSize)}${inputs.labelMapping ? ` with a label map of ${Object.keys(inputs.labelMapping).length} labels` : ''}`);

    const since = now();
    const plan = await uploadTo(
      {
        label: 'video',
        file: opts.file,
        size: inputs.videoSize,
        startPath: `/v1/videos/${video}/upload`,
        startBody: {
          filename: basename(opts.file),
          contentType: contentTypeFor(opts.file),
          sizeBytes: inputs.videoSize,
          frameRate: inputs.frameRate,
          threshold: inputs.threshold,
        },
        completePath: `/v1/videos/${video}/upload/complete`,
        resume: {
          path: `/v1/videos/${video}/upload/resume`,
          key: uploadKey({ apiUrl: api.baseUrl, videoId, path: opts.file, size: inputs.videoSize, mtimeMs: (await stat(opts.file)).mtimeMs }),
          uploads: new OpenUploads(),
        },
      },
      ctx,
    );
    uploadedVideoId = videoId;
    output.out(`video: uploaded ${formatBytes(inputs.videoSize)} (${plan.method === 'PUT' ? 'single PUT' : `multipart`}); waiting for the pipeline to receive it`);

    const job = await awaitReceipt(videoId, known, since, ctx);
    if (!job) return finish({ kind: 'not-received', videoId, waitedSeconds: Math.round(timingOf(ctx).receiptTimeoutMs / 1000) }, output);
    jobId = job.jobId;
    output.out(`received: job ${jobId}`);
    if (opts.follow === false) {
      output.out(`not following the job; follow it with: framewise job ${jobId}`);
      return finish({ kind: 'done' }, output);
    }
    return finish(await followJob(jobId, ctx, jobDisplay(output)), output);
  } catch (err) {
    return finish(outcomeOf(err, jobId, uploadedVideoId), output);
  }
}

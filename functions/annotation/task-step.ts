// annotation-task (Task inside the Map of annotation-content): one task. Its sampled frames are extracted exactly as
// video ingest extracts them (one extractSegment run of the task's segment) or taken from the images, stored at
// annotation/frames/{uploadId}/{sampledFrame}.jpg, encoded into the task video; the video and the frame manifest go
// to annotation/tasks/{taskId}/, then the task document and the upload's progress. A retry rewrites the same keys;
// a resumed run skips a task done whole.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { extractSegment, runFfmpeg } from '../ingest/extract.ts';
import { partTask } from '../jobs/step-task.ts';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';
import { EXTRACTION_SHARE, tasksProgress } from './content.ts';
import { contentUrl, downloadContent } from './content-file.ts';
import { sourceFrameOf, sourceFrameTime, taskSegment } from './frames.ts';
import { openImages, type ContentImages } from './images.ts';
import { countGeneratedTasks, raiseProgress, recordTaskGenerated, requireUpload, sampledFrameKey, taskId, taskManifestKey, taskVideoKey, type AnnotationContentUpload } from './store.ts';
import { encodeTaskVideo, frameMd5, taskManifest, type TaskVideoFrame } from './task-video.ts';

const Input = z.object({
  jobId: z.string().min(1),
  uploadId: z.uuid(),
  plan: z.object({
    contentType: z.union([z.literal(1), z.literal(2)]),
    frameRate: z.number().int().min(1),
    frameCount: z.number().int().min(1),
    framesPerTask: z.number().int().min(1),
    sourceFrameRate: z.number().positive(),
    sourceRate: z.string().min(3),
    width: z.number().int().min(1),
    height: z.number().int().min(1),
    videoStart: z.number().min(0),
    taskCount: z.number().int().min(1),
  }),
  task: z.object({ index: z.number().int().min(0), first: z.number().int().min(0), count: z.number().int().min(1) }),
});
type TaskInput = z.output<typeof Input>;

/** Uploads run this many at a time: enough to hide S3 latency, few enough for Lambda's sockets. */
const UPLOAD_CONCURRENCY = 16;

async function putAll(items: readonly { key: string; file: string; contentType: string }[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await s3().send(new PutObjectCommand({ Bucket: config.mediaBucket(), Key: item.key, Body: createReadStream(item.file), ContentType: item.contentType }));
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
}

/** The task's frames of a video, as ingest extracts them, numbered by sampled frame. */
async function videoFrames(upload: AnnotationContentUpload, { plan, task }: TaskInput, dir: string, timeoutMs: number): Promise<TaskVideoFrame[]> {
  const segment = taskSegment({ task: task.index, framesPerTask: plan.framesPerTask, frameCount: plan.frameCount, frameRate: plan.frameRate, videoStart: plan.videoStart });
  const frames = await extractSegment({ ffmpegPath: config.ffmpegPath(), input: await contentUrl(upload.key), fps: plan.frameRate, segment, outDir: dir, timeoutMs });
  return frames.map((f) => {
    const sourceFrame = sourceFrameOf(f.frame, plan.frameRate, plan.sourceRate, plan.videoStart);
    return { path: f.file, sampledFrame: f.frame, sourceFrame, time: sourceFrameTime(sourceFrame, plan.sourceRate, plan.videoStart) };
  });
}

/** The task's images, read from the content (a zip: only the task's entries). */
async function imageFrames(upload: AnnotationContentUpload, input: TaskInput, dir: string, timeoutMs: number): Promise<TaskVideoFrame[]> {
  const { plan } = input;
  const images = await openImages(await downloadContent(upload.key, dir), upload.fileName);
  try {
    if (images.names.length !== plan.frameCount) throw new TaskError('ContentChanged', `the content holds ${images.names.length} images, ${plan.frameCount} were planned`);
    return await taskImages(images, input, dir, timeoutMs);
  } finally {
    images.close();
  }
}

/** The task's images as JPEGs (a PNG is encoded as one; a JPEG is kept as uploaded); image i is sampled and source frame i. */
async function taskImages(images: ContentImages, { plan, task }: TaskInput, dir: string, timeoutMs: number): Promise<TaskVideoFrame[]> {
  const frames: TaskVideoFrame[] = [];
  for (let i = task.first; i < task.first + task.count; i++) {
    const image = await images.read(i);
    const path = join(dir, `${String(i).padStart(6, '0')}.jpg`);
    if (image.format === 'jpeg') {
      await writeFile(path, image.bytes);
    } else {
      const source = join(dir, `${String(i).padStart(6, '0')}.png`);
      await writeFile(source, image.bytes);
      await runFfmpeg(config.ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', source, '-frames:v', '1', '-q:v', '3', path], { timeoutMs });
    }
    frames.push({ path, sampledFrame: i, sourceFrame: i, time: i / plan.frameRate });
  }
  return frames;
}

/** How often a running task raises the upload's progress by the frames it has extracted so far. */
const PROGRESS_EVERY_MS = 3000;

/**
 * While the task runs, raises the upload's progress every few seconds to what is surely done: the tasks generated
 * plus this task's frames extracted so far (JPEGs on disk). Tasks running in parallel each raise it to their own
 * lower bound; $max keeps the highest.
 */
function reportProgress(o: { uploadId: string; jobId: string; framesDir: string; count: number; taskCount: number }): () => void {
  let stopped = false;
  const tick = async () => {
    const files = (await readdir(o.framesDir, { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.jpg')).length;
    const share = EXTRACTION_SHARE * Math.min(1, files / o.count);
    const done = await countGeneratedTasks(o.uploadId, o.jobId);
    if (!stopped) await raiseProgress(o.uploadId, o.jobId, tasksProgress(Math.min(o.taskCount, done + share), o.taskCount));
  };
  const timer = setInterval(() => void tick().catch(() => undefined), PROGRESS_EVERY_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

const parts = {
  step: 'tasks',
  part: ({ task }: { task: { index: number } }) => String(task.index),
  subject: ({ uploadId, task }: { uploadId: string; task: { index: number } }) => ({ uploadId, task: task.index }),
  done: ({ uploadId, task }: { uploadId: string; task: { index: number; count: number } }) => ({ taskId: taskId(uploadId, task.index), frames: task.count }),
} as const;

export const handler = partTask(Input, parts, async (input, context) => {
  const { jobId, uploadId, plan, task } = input;
  const upload = await requireUpload(uploadId);
  const id = taskId(uploadId, task.index);
  const dir = await mkdtemp(join(tmpdir(), `annotation-task-${task.index}-`));
  try {
    const timeoutMs = Math.max(10_000, context.getRemainingTimeInMillis() - 60_000);
    const framesDir = join(dir, 'frames');
    await mkdir(framesDir);
    const stopReporting = reportProgress({ uploadId, jobId, framesDir, count: task.count, taskCount: plan.taskCount });
    let frames: TaskVideoFrame[];
    try {
      frames = plan.contentType === 1 ? await videoFrames(upload, input, framesDir, timeoutMs) : await imageFrames(upload, input, framesDir, timeoutMs);
    } finally {
      stopReporting();
    }
    const videoPath = join(dir, 'video.mp4');
    const video = await encodeTaskVideo({
      ffmpegPath: config.ffmpegPath(), frames, frameRate: plan.frameRate, outPath: videoPath, timeoutMs,
      // Images of other sizes are letterboxed onto the first image's size.
      ...(plan.contentType === 2 && { size: { width: plan.width, height: plan.height } }),
    });
    const withMd5 = await Promise.all(frames.map(async (f) => ({ ...f, md5: await frameMd5(f.path) })));
    const manifestPath = join(dir, 'manifest.json');
    await writeFile(manifestPath, JSON.stringify(taskManifest(id, video, withMd5)));
    await putAll([
      ...frames.map((f) => ({ key: sampledFrameKey(uploadId, f.sampledFrame), file: f.path, contentType: 'image/jpeg' })),
      { key: taskVideoKey(id), file: videoPath, contentType: 'video/mp4' },
      { key: taskManifestKey(id), file: manifestPath, contentType: 'application/json' },
    ]);
    const recorded = await recordTaskGenerated(id, jobId, { sourceFrames: frames.map((f) => f.sourceFrame), width: video.width, height: video.height });
    if (!recorded) throw new TaskError('StaleRequest', `task ${id} is now planned by another job than ${jobId}`);
    await raiseProgress(uploadId, jobId, tasksProgress(await countGeneratedTasks(uploadId, jobId), plan.taskCount));
    return { taskId: id, frames: frames.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

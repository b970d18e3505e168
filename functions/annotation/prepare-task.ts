// annotation-prepare (first Task of annotation-content): what the content holds (the video's probe, or the images
// in name order), the upload's tasks of framesPerTask sampled frames each, recorded as not generated yet (a
// regeneration keeps their ids). Auto annotations alone (requestType 2) plan no task.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { TaskError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { planSegments } from '../ingest/segments.ts';
import { planTasks, tasksProgress } from './content.ts';
import { downloadContent } from './content-file.ts';
import { checkImages } from './images.ts';
import { planTask, raiseProgress, recordPlan, requireProject, requireUpload, type AnnotationContentUpload } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), uploadId: z.uuid() });

/** Task documents written at once (one write each): a long video has hundreds. */
const PLAN_WRITES_AT_ONCE = 16;

/** What the Map and the later steps need of the plan (the tasks themselves are the Map's items). */
export interface ContentPlan {
  readonly contentType: 1 | 2;
  readonly frameRate: number;
  readonly frameCount: number;
  readonly framesPerTask: number;
  readonly sourceFrameRate: number;
  /** The source's rate exactly ("30000/1001"; images: frameRate/1), for source frame numbers. */
  readonly sourceRate: string;
  readonly width: number;
  readonly height: number;
  /** Start of the video stream after the file's start (seconds); 0 for images. */
  readonly videoStart: number;
  readonly taskCount: number;
}

async function measure(upload: AnnotationContentUpload, frameRate: number): Promise<Omit<ContentPlan, 'framesPerTask' | 'taskCount' | 'contentType' | 'frameRate'>> {
  if (upload.contentType === 1) {
    const probe = upload.probe;
    if (!probe) throw new TaskError('NotProbed', `upload ${upload.uploadId} has no probe: request its processing again`);
    const plan = planSegments({
      durationSeconds: probe.streamDurationSeconds, startTime: probe.streamStartSeconds, fileStartTime: probe.fileStartSeconds, fps: frameRate, segments: 1,
    });
    if (plan.frameCount === 0) throw new TaskError('NoFrames', `the video is too short to give a frame at ${frameRate} frames per second`);
    return {
      frameCount: plan.frameCount, sourceFrameRate: probe.frameRate, sourceRate: probe.exactFrameRate, width: probe.width, height: probe.height,
      videoStart: Math.max(0, probe.streamStartSeconds - probe.fileStartSeconds),
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'annotation-prepare-'));
  try {
    const { count, first: size } = await checkImages(await downloadContent(upload.key, dir), upload.fileName);
    // Image i is source frame i: the "source rate" of images is the rate their tasks play at.
    return { frameCount: count, sourceFrameRate: frameRate, sourceRate: `${frameRate}/1`, ...size, videoStart: 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const steps = {
  step: 'prepare',
  subject: ({ uploadId }: { uploadId: string }) => ({ uploadId }),
  next: ({ tasks }: { tasks: readonly unknown[] }) => ({ step: 'tasks', parts: tasks.length }) as const,
} as const;

export const handler = stepTask(Input, steps, async ({ jobId, uploadId }) => {
  const upload = await requireUpload(uploadId);
  if (upload.jobId !== jobId || !upload.request) throw new TaskError('StaleRequest', `upload ${uploadId} is now processed by job ${upload.jobId ?? 'none'}`);
  const project = await requireProject(upload.projectId);
  const { request } = upload;
  if (request.requestType === 2) {
    // Auto annotations alone: the tasks stay as they are.
    const plan = { contentType: upload.contentType, frameRate: request.frameRate, frameCount: upload.frameCount ?? 0, framesPerTask: project.framesPerTask,
      sourceFrameRate: upload.sourceFrameRate ?? 0, sourceRate: upload.probe?.exactFrameRate ?? '', width: upload.width ?? 0, height: upload.height ?? 0, videoStart: 0, taskCount: upload.taskCount ?? 0 };
    return { plan, tasks: [] };
  }
  const measured = await measure(upload, request.frameRate);
  const tasks = planTasks(measured.frameCount, project.framesPerTask);
  const plan: ContentPlan = { contentType: upload.contentType, frameRate: request.frameRate, framesPerTask: project.framesPerTask, taskCount: tasks.length, ...measured };
  for (let i = 0; i < tasks.length; i += PLAN_WRITES_AT_ONCE) {
    await Promise.all(tasks.slice(i, i + PLAN_WRITES_AT_ONCE).map((task) => planTask(upload, task, jobId, `job ${jobId}`)));
  }
  await recordPlan(uploadId, jobId, {
    taskCount: plan.taskCount, frameCount: plan.frameCount, sourceFrameRate: plan.sourceFrameRate, width: plan.width, height: plan.height,
  });
  await raiseProgress(uploadId, jobId, tasksProgress(0, tasks.length));
  logger.info('annotation tasks planned', { ...plan });
  return { plan, tasks };
});

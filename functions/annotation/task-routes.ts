// Task work over HTTP: the boxes of a task's frames, its status and audit moves, and the prediction sets of an
// upload. Spread into the annotation API's routes.
import { z } from '../lib/zod.ts';
import { AppError, badRequest, conflict } from '../lib/errors.ts';
import { defineRoute, type DefinedRoute } from '../lib/route.ts';
import type { Principal } from '../lib/auth.ts';
import { listPredictions, moveTaskStatus, readFrames, writeFrameBoxes, type FrameDoc } from './annotation-store.ts';
import { MAX_PREDICTION_FILE_BYTES, presignPredictionFile, registerPredictions } from './prediction-sets.ts';
import { IdParams, TaskIdParams } from './schemas.ts';
import { requireProject, requireTask, taskId, type AnnotationTask } from './store.ts';
import { historyEntries, planStatusChange, TransitionNotAllowed, type TaskStatuses } from './task-status.ts';

const TAG = 'annotation';
const TaskParams = TaskIdParams;
const UploadParams = IdParams;

const BoxSchema = z.strictObject({
  label: z.string().min(1),
  x: z.number(),
  y: z.number(),
  w: z.number().nonnegative(),
  h: z.number().nonnegative(),
  score: z.number().min(0).max(1).optional(),
});
const PutAnnotations = z.strictObject({
  source: z.enum(['human', 'auto']).default('human'),
  frames: z.array(z.strictObject({ index: z.number().int().nonnegative(), boxes: z.array(BoxSchema).max(10_000) })).min(1).max(1000),
});
const PatchTask = z
  .strictObject({ taskStatus: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(), auditStatus: z.number().int().min(0).max(5).optional() })
  .refine((b) => b.taskStatus !== undefined || b.auditStatus !== undefined, 'give taskStatus, auditStatus or both');
const RegisterPredictions = z.union([
  z.strictObject({ format: z.literal('localizations'), localizations: z.unknown() }),
  z.strictObject({ format: z.enum(['localizations', 'yolo']), key: z.string().min(1).max(1024) }),
]);
const PresignPredictions = z.strictObject({ format: z.enum(['yolo', 'localizations']), sizeBytes: z.number().int().positive().max(MAX_PREDICTION_FILE_BYTES) });

const callerOf = (p: Principal) => `${p.role}:${p.keyId}`;

/** A task frame's annotations, as the client sees them. */
const frameView = (task: AnnotationTask, index: number, doc: FrameDoc | undefined) => ({
  index,
  sampledFrame: task.frames.first + index,
  sourceFrame: task.sourceFrames[index]!,
  human: doc?.human ?? [],
  humanSavedAt: doc?.humanSavedAt ?? null,
  humanBy: doc?.humanBy ?? null,
  auto: doc?.auto ?? null,
});

async function taskAnnotations(task: AnnotationTask) {
  const frames = await readFrames(task.uploadId, task.sourceFrames);
  return { taskId: taskId(task.uploadId, task.index), uploadId: task.uploadId, frames: task.sourceFrames.map((f, i) => frameView(task, i, frames.get(f))) };
}

const Frame = z.object({
  index: z.number().int(),
  sampledFrame: z.number().int(),
  sourceFrame: z.number().int(),
  human: z.array(BoxSchema),
  humanSavedAt: z.string().nullable(),
  humanBy: z.string().nullable(),
  auto: z.object({ version: z.number().int(), boxes: z.array(BoxSchema) }).nullable(),
});
const TaskAnnotations = z.object({ taskId: z.string(), uploadId: z.string(), frames: z.array(Frame) });
const TaskStatusView = z.object({ taskId: z.string(), taskStatus: z.number().int(), auditStatus: z.number().int(), history: z.array(z.object({}).loose()) });
const Prediction = z.object({ uploadId: z.string(), version: z.number().int(), format: z.string(), frames: z.number().int(), boxes: z.number().int(), createdAt: z.string(), createdBy: z.string() });

const predictionView = ({ _id, key, ...p }: Awaited<ReturnType<typeof listPredictions>>[number]) => p; // eslint-disable-line @typescript-eslint/no-unused-vars

export const taskRoutes: DefinedRoute[] = [
  defineRoute({
    key: 'GET /v1/annotation/tasks/{id}/annotations', tag: TAG, roles: ['analyst'],
    summary: "A task's boxes, per task frame: the human and the auto ones, with the source frame each maps to",
    params: TaskParams, response: TaskAnnotations,
    handle: async ({ params }) => taskAnnotations(await requireTask(params.id)),
  }),
  defineRoute({
    key: 'PUT /v1/annotation/tasks/{id}/annotations', tag: TAG, roles: ['analyst'],
    summary: "Sets the boxes of some of a task's frames (by task frame index), human or auto",
    description:
      'Boxes are source pixels `{ label, x, y, w, h, score? }` with a label of the project. They are kept per source frame, so a task ' +
      'generated again shows them again. A frame listed replaces that source\'s boxes of the frame (an empty list: a person saw nothing ' +
      'there); frames not listed and the other source are left alone.',
    params: TaskParams, body: PutAnnotations, response: TaskAnnotations, errors: [404],
    handle: async ({ params, body, principal }) => {
      const task = await requireTask(params.id);
      const project = await requireProject(task.projectId);
      const labels = new Set(project.labels);
      const issues = body.frames.flatMap((f, fi) => [
        ...(f.index >= task.sourceFrames.length ? [{ path: `frames.${fi}.index`, message: `the task has ${task.sourceFrames.length} frames (0-${task.sourceFrames.length - 1})` }] : []),
        ...f.boxes.flatMap((b, bi) => (labels.has(b.label) ? [] : [{ path: `frames.${fi}.boxes.${bi}.label`, message: `${JSON.stringify(b.label)} is not a label of the project` }])),
      ]);
      const indexes = body.frames.map((f) => f.index);
      if (new Set(indexes).size !== indexes.length) issues.push({ path: 'frames', message: 'a task frame is listed twice' });
      if (issues.length > 0) throw new AppError(400, 'AnnotationsInvalid', 'The annotations do not fit the task or its project', { issues, labels: project.labels });
      for (const f of body.frames) {
        const frame = { uploadId: task.uploadId, projectId: task.projectId, sourceFrame: task.sourceFrames[f.index]! };
        await writeFrameBoxes(frame, body.source === 'human' ? { human: f.boxes, by: callerOf(principal) } : { auto: { version: 0, boxes: f.boxes } });
      }
      return taskAnnotations(task);
    },
  }),
  defineRoute({
    key: 'PATCH /v1/annotation/tasks/{id}', tag: TAG, roles: ['analyst'],
    summary: "Moves a task's taskStatus and/or auditStatus; a move the rules do not allow is a 409 naming the allowed ones",
    description: 'taskStatus 0 not started, 1 in progress, 2 completed; auditStatus 0 pending, 1 accepted, 2 rejected, 3 fixed, 4 fixing, 5 completed. Every change is kept in the task\'s history.',
    params: TaskParams, body: PatchTask, response: TaskStatusView,
    handle: async ({ params, body, principal }) => {
      const task = await requireTask(params.id);
      const from: TaskStatuses = { taskStatus: task.taskStatus, auditStatus: task.auditStatus };
      let plan;
      try {
        plan = planStatusChange(from, body as Partial<TaskStatuses>);
      } catch (err) {
        if (err instanceof TransitionNotAllowed) {
          throw conflict(err.message, { field: err.field, from: err.from, to: err.to, allowed: err.allowed });
        }
        throw err;
      }
      if (plan.changes.length > 0) {
        const entries = historyEntries(plan.changes, callerOf(principal), new Date().toISOString());
        if (!(await moveTaskStatus(task, from, plan.next, entries))) {
          throw conflict(`task ${taskId(task.uploadId, task.index)} changed while this request was made; read it again`, { taskStatus: from.taskStatus, auditStatus: from.auditStatus });
        }
      }
      const now = await requireTask(params.id);
      return { taskId: taskId(now.uploadId, now.index), taskStatus: now.taskStatus, auditStatus: now.auditStatus, history: now.history };
    },
  }),
  defineRoute({
    key: 'POST /v1/annotation/uploads/{id}/predictions/file', tag: TAG, roles: ['analyst'],
    summary: 'A presigned PUT for a prediction file too big for a request body (a zip of YOLO txt files, a localizations JSON)',
    description: 'PUT the file to `url` with the given Content-Type, then register it: `POST …/predictions { "format", "key" }`.',
    params: UploadParams, body: PresignPredictions, status: 200,
    response: z.object({ method: z.literal('PUT'), key: z.string(), url: z.string(), contentType: z.string(), expiresIn: z.number() }),
    handle: ({ params, body }) => presignPredictionFile(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/annotation/uploads/{id}/predictions', tag: TAG, roles: ['analyst'],
    summary: "Registers the next version of an upload's prediction set",
    description:
      'Either `{ "format": "localizations", "localizations": {…} }` inline (Framewise\'s localizations format; `frame` is the source frame), or ' +
      '`{ "format": "yolo" | "localizations", "key" }` of a file put through `…/predictions/file`. YOLO: a zip of `<sourceFrame>.txt` files, lines ' +
      '`class cx cy w h [score]` normalized, class an index into the project\'s labels. A file that fails validation lists its issues by path; ' +
      'labels the project lacks are a 400 naming them.',
    params: UploadParams, body: RegisterPredictions, response: Prediction, errors: [404, 409],
    handle: async ({ params, body, principal }) => {
      if (body.format === 'localizations' && 'localizations' in body && body.localizations === undefined) throw badRequest('localizations is missing');
      return predictionView(await registerPredictions(params.id, body, callerOf(principal)));
    },
  }),
  defineRoute({
    key: 'GET /v1/annotation/uploads/{id}/predictions', tag: TAG, roles: ['analyst'],
    summary: "An upload's prediction set versions",
    params: UploadParams, response: z.object({ uploadId: z.string(), versions: z.array(Prediction) }),
    handle: async ({ params }) => ({ uploadId: params.id, versions: (await listPredictions(params.id)).map(predictionView) }),
  }),
];

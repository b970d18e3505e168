// The annotation API's request and response schemas (zod, documented in the OpenAPI document).
import { z } from '../lib/zod.ts';
import { unifyNames } from './content.ts';

export const Id = z.uuid();
export const IdParams = z.object({ id: Id });
export const TaskIdParams = z.object({ id: z.string().regex(/^[0-9a-f-]{36}-\d{5}$/, 'not a task id: <uploadId>-<index, 5 digits>') });

const Label = z.string().trim().min(1).max(100);
export const NewProject = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    labels: z.array(Label).min(1).max(1000).refine((ls) => new Set(ls).size === ls.length, { message: 'labels must not repeat' }),
    framesPerTask: z.number().int().min(1).max(1000).optional().openapi({ description: 'Frames in each task (default 50)' }),
  })
  .openapi('NewAnnotationProject');

export const Project = z
  .object({ projectId: Id, name: z.string(), labels: z.array(z.string()), framesPerTask: z.number().int(), createdAt: z.string() })
  .openapi('AnnotationProject');
export const ProjectList = z.object({ projects: z.array(Project) }).openapi('AnnotationProjectList');

const ContentTypeCode = z.union([z.literal(1), z.literal(2)]).openapi({ description: '1: a video; 2: images (one JPEG/PNG image, or a zip of them, in name order)' });

export const NewUpload = z
  .strictObject({
    fileName: z.string().min(1).max(200).regex(/^[A-Za-z0-9._ -]+$/, 'a plain file name: letters, digits, dot, dash, underscore, space').refine((n) => n !== '.' && n !== '..'),
    sizeBytes: z.number().int().min(1),
    contentType: ContentTypeCode,
  })
  .openapi('NewAnnotationUpload');

const ContentRequest = z.object({
  frameRate: z.number(),
  forceWrite: z.number().int(),
  autoAnnoVersion: z.number().int(),
  requestType: z.number().int(),
});

export const Upload = z
  .object({
    uploadId: Id,
    projectId: Id,
    fileName: z.string(),
    contentType: z.number().int(),
    sizeBytes: z.number().int(),
    key: z.string(),
    uploadState: z.enum(['uploading', 'uploaded']),
    multipartUploadId: z.string().optional(),
    requests: z.number().int().openapi({ description: 'Processing requests so far' }),
    request: ContentRequest.optional().openapi({ description: 'The current (last) processing request' }),
    status: z.number().int().openapi({ description: '0: in progress (or not processed yet); 1: completed; 2: error' }),
    progress: z.number().int().min(0).max(100).openapi({ description: "The current request's progress; only grows" }),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    jobId: z.string().optional().openapi({ description: 'The job of the current request: GET /v1/jobs/{id}' }),
    taskCount: z.number().int().optional(),
    processedAt: z.string().optional().openapi({ description: 'When a request last generated all its tasks; a processed upload needs forceWrite 1' }),
    frameCount: z.number().int().optional(),
    sourceFrameRate: z.number().optional(),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('AnnotationContentUpload');
export const UploadList = z.object({ uploads: z.array(Upload) }).openapi('AnnotationUploadList');

export const CompleteUpload = z
  .strictObject({
    uploadId: z.string().min(1).max(1024).optional(),
    parts: z.array(z.strictObject({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(256) })).min(1).max(10_000).optional(),
  })
  .default({})
  .openapi('CompleteAnnotationUpload', { description: 'A multipart upload: its uploadId and parts. A single PUT: nothing (its object is checked).' });

/** Either naming of each field: camelCase, or the older snake_case (`upload_id`, `frame_rate`, ...). */
export const ProcessContent = z
  .preprocess(
    (body) => (body !== null && typeof body === 'object' && !Array.isArray(body) ? unifyNames(body as Record<string, unknown>) : body),
    z.strictObject({
      uploadId: Id,
      projectId: Id,
      frameRate: z.number().int('frameRate must be a whole number of frames per second').min(1, 'frameRate must be at least 1'),
      forceWrite: z.union([z.literal(0), z.literal(1)]).default(0),
      autoAnnoVersion: z.number().int().min(0).default(0),
      requestType: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0),
      contentType: ContentTypeCode,
    }),
  )
  .refine((r) => r.requestType === 0 || r.autoAnnoVersion >= 1, { message: 'requestType 1 and 2 need an autoAnnoVersion of at least 1', path: ['autoAnnoVersion'] })
  .openapi('ProcessContent', {
    description:
      'The older snake_case names are accepted too: upload_id, project_id, frame_rate, force_write, auto_anno_version, request_type, content_type.',
  });

export const Task = z
  .object({
    taskId: z.string(),
    projectId: Id,
    uploadId: Id,
    index: z.number().int(),
    frames: z.object({ first: z.number().int(), count: z.number().int() }).openapi({ description: 'Task frame i is sampled frame first + i' }),
    sourceFrames: z.array(z.number().int()).openapi({ description: 'The source frame number of each task frame' }),
    videoKey: z.string(),
    manifestKey: z.string(),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    generated: z.boolean().openapi({ description: 'The task video and manifest are written' }),
    jobId: z.string(),
    taskStatus: z.number().int().openapi({ description: '0 not started, 1 in progress, 2 completed' }),
    auditStatus: z.number().int().openapi({ description: '0 pending, 1 accepted, 2 rejected, 3 fixed, 4 fixing, 5 completed' }),
    history: z.array(z.object({ by: z.string(), at: z.string(), field: z.string(), from: z.unknown(), to: z.unknown() })),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('AnnotationTask');
export const TaskList = z.object({ tasks: z.array(Task) }).openapi('AnnotationTaskList');
export const TaskWithUrls = Task.extend({
  videoUrl: z.url().openapi({ description: 'Presigned GET of the task video (H.264 MP4)' }),
  manifestUrl: z.url().openapi({ description: 'Presigned GET of the frame manifest (JSON)' }),
  expiresIn: z.number().int(),
}).openapi('AnnotationTaskWithUrls');

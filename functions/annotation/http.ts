// annotation-api: annotation projects, their content uploads (straight to S3, presigned), processContent requests
// that turn an upload into tasks by the annotation-content workflow, and the uploads and tasks as they stand. Task
// work and datasets have their own modules, served here too.
import { httpHandler } from '../lib/http.ts';
import { defineRoute, routeTable } from '../lib/route.ts';
import { z } from '../lib/zod.ts';
import { UploadPlan, UploadResume } from '../lib/upload-schemas.ts';
import { datasetRoutes } from './dataset-routes.ts';
import { completeContentUpload, processContent, resumeContentUpload, startContentUpload, taskWithUrls } from './processing.ts';
import * as s from './schemas.ts';
import { createProject, listProjects, listTasks, listUploads, requireProject, requireTask, requireUpload } from './store.ts';
import { taskRoutes } from './task-routes.ts';

const TAG = 'annotation';
const ROLES = ['analyst'] as const;

const UploadStarted = z.object({ upload: s.Upload, plan: UploadPlan }).openapi('AnnotationUploadStarted', {
  description: 'PUT the content to plan.url (or each part to its URL, then complete); never a server path',
});

export const annotationRoutes = [
  defineRoute({
    key: 'POST /v1/annotation/projects', tag: TAG, roles: ROLES,
    summary: 'Create an annotation project (its labels, and frames per task)',
    description: '409 when a project has this name.',
    body: s.NewProject, response: s.Project,
    handle: ({ body }) => createProject(body),
  }),
  defineRoute({
    key: 'GET /v1/annotation/projects', tag: TAG, roles: ROLES,
    summary: 'Annotation projects, by name',
    response: s.ProjectList, errors: [],
    handle: async () => ({ projects: await listProjects() }),
  }),
  defineRoute({
    key: 'GET /v1/annotation/projects/{id}', tag: TAG, roles: ROLES,
    summary: 'An annotation project',
    params: s.IdParams, response: s.Project,
    handle: ({ params }) => requireProject(params.id),
  }),
  defineRoute({
    key: 'POST /v1/annotation/projects/{id}/uploads', tag: TAG, roles: ROLES,
    summary: 'Start uploading content (a video, an image or a zip of images) to a project: a presigned PUT or multipart upload',
    params: s.IdParams, body: s.NewUpload, response: UploadStarted,
    handle: ({ params, body }) => startContentUpload(params.id, body),
  }),
  defineRoute({
    key: 'GET /v1/annotation/projects/{id}/uploads', tag: TAG, roles: ROLES,
    summary: "A project's content uploads, oldest first",
    params: s.IdParams, response: s.UploadList,
    handle: async ({ params }) => {
      await requireProject(params.id);
      return { uploads: await listUploads(params.id) };
    },
  }),
  defineRoute({
    key: 'GET /v1/annotation/uploads/{id}', tag: TAG, roles: ROLES,
    summary: 'A content upload: its state, current request, status, progress and error',
    params: s.IdParams, response: s.Upload,
    handle: ({ params }) => requireUpload(params.id),
  }),
  defineRoute({
    key: 'POST /v1/annotation/uploads/{id}/complete', tag: TAG, roles: ROLES,
    summary: 'Finish a content upload: complete its multipart upload, or confirm its single PUT arrived',
    params: s.IdParams, body: s.CompleteUpload, response: s.Upload, status: 200,
    handle: ({ params, body }) => completeContentUpload(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/annotation/uploads/{id}/resume', tag: TAG, roles: ROLES,
    summary: 'Resume a multipart content upload: fresh part URLs, and the parts S3 holds',
    params: s.IdParams, body: UploadResume, response: UploadPlan, status: 200,
    handle: ({ params, body }) => resumeContentUpload(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/annotation/process-content', tag: TAG, roles: ROLES,
    summary: "Process an upload's content into annotation tasks (processContent)",
    description:
      'Answers 202 with the upload; its job (jobId, GET /v1/jobs/{id}) generates the tasks. frameRate: an integer from 1 to the ' +
      "video's frame rate. forceWrite 0: an upload already processed is a 409; 1: its tasks are generated again with the same ids. " +
      'requestType 0: tasks; 1: tasks and auto annotations of autoAnnoVersion; 2: auto annotations onto the existing tasks (409 without). ' +
      '409 UploadInProgress while the content is not all uploaded; 400 NotAVideo, FrameRateAboveSource.',
    body: s.ProcessContent, response: s.Upload, status: 202, errors: [404, 409],
    handle: ({ body }) => processContent(body),
  }),
  defineRoute({
    key: 'GET /v1/annotation/uploads/{id}/tasks', tag: TAG, roles: ROLES,
    summary: "An upload's tasks, by index",
    params: s.IdParams, response: s.TaskList,
    handle: async ({ params }) => {
      await requireUpload(params.id);
      return { tasks: await listTasks(params.id) };
    },
  }),
  defineRoute({
    key: 'GET /v1/annotation/tasks/{id}', tag: TAG, roles: ROLES,
    summary: 'A task, with presigned URLs of its video and frame manifest',
    params: s.TaskIdParams, response: s.TaskWithUrls,
    handle: async ({ params }) => taskWithUrls(await requireTask(params.id)),
  }),
  ...taskRoutes,
  ...datasetRoutes,
];

export const routes = routeTable(annotationRoutes);
export const handler = httpHandler(routes);

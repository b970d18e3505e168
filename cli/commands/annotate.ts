// `framewise annotate process --project ID --file clip.mp4 --frame-rate 5 [--request-type 0|1|2] [--auto-anno-version N]
//                            [--images] [--force]`
// 1. checks the local inputs; 2. uploads the content with a progress bar (straight to storage, presigned);
// 3. asks for its processing (processContent); 4. follows the job; 5. ends with one status line and its exit code.
// `framewise annotate projects create --name N --labels a,b [--frames-per-task 50]` and `framewise annotate projects list`.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { uploadFile, type UploadPlan } from '../upload.ts';
import {
  abortable, finish, formatBytes, InputError, Interrupted, outcomeOf, table, UploadError, type CommandContext,
} from './common.ts';
import { uploadProgress } from './ingest.ts';
import { followJob, jobDisplay } from './job.ts';

export interface AnnotateProcessOptions {
  readonly project: string;
  readonly file: string;
  readonly frameRate: string;
  readonly requestType?: string;
  readonly autoAnnoVersion?: string;
  /** The file is an image or a zip of images (contentType 2); by default a video, unless its name says zip/jpg/png. */
  readonly images?: boolean;
  /** forceWrite 1: an upload processed before is processed again. */
  readonly force?: boolean;
}

interface ProcessInputs {
  readonly size: number;
  readonly frameRate: number;
  readonly requestType: 0 | 1 | 2;
  readonly autoAnnoVersion: number;
  readonly contentType: 1 | 2;
}

const IMAGE_FILE = /\.(zip|jpe?g|png)$/i;
const wholeNumber = (v: string | undefined, fallback: number): number => (v === undefined ? fallback : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN);

/** Checks every local input before anything is sent; throws one InputError that lists every problem. */
export async function checkProcessInputs(opts: AnnotateProcessOptions): Promise<ProcessInputs> {
  const issues: string[] = [];
  const frameRate = wholeNumber(opts.frameRate, Number.NaN);
  if (!(frameRate >= 1)) issues.push(`--frame-rate must be a whole number of frames per second, at least 1, got ${JSON.stringify(opts.frameRate)}`);
  const requestType = wholeNumber(opts.requestType, 0);
  if (![0, 1, 2].includes(requestType)) issues.push(`--request-type must be 0, 1 or 2, got ${JSON.stringify(opts.requestType)}`);
  const autoAnnoVersion = wholeNumber(opts.autoAnnoVersion, 0);
  if (!(autoAnnoVersion >= 0)) issues.push(`--auto-anno-version must be a whole number, got ${JSON.stringify(opts.autoAnnoVersion)}`);
  else if (requestType !== 0 && autoAnnoVersion < 1) issues.push('--request-type 1 and 2 need --auto-anno-version 1 or more');
  if (!opts.project?.trim()) issues.push('--project needs the id of an annotation project');
  let size = 0;
  try {
    const s = await stat(opts.file);
    if (!s.isFile()) issues.push(`${opts.file} is not a file`);
    else if (s.size === 0) issues.push(`${opts.file} is empty`);
    size = s.size;
  } catch (err) {
    issues.push(`${opts.file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (issues.length) throw new InputError('the inputs are not usable; nothing was sent', issues);
  const contentType = opts.images || IMAGE_FILE.test(opts.file) ? 2 : 1;
  return { size, frameRate, requestType: requestType as 0 | 1 | 2, autoAnnoVersion, contentType };
}

interface UploadStarted {
  upload: { uploadId: string };
  plan: UploadPlan;
}

/** Sends the content as the API's plan says, with a progress display, and finishes the upload. */
async function sendContent(opts: AnnotateProcessOptions, inputs: ProcessInputs, ctx: CommandContext): Promise<string> {
  const { api, output, signal } = ctx;
  const project = encodeURIComponent(opts.project.trim());
  const started = await abortable(
    api.post<UploadStarted>(`/v1/annotation/projects/${project}/uploads`, { fileName: basename(opts.file), sizeBytes: inputs.size, contentType: inputs.contentType }),
    signal,
  );
  const uploadId = started.upload.uploadId;
  const { plan } = started;
  const progress = uploadProgress(output, 'content', inputs.size, ctx.now);
  let parts;
  try {
    parts = await abortable(
      uploadFile(plan, opts.file, (sent) => progress.update(sent), {
        signal,
        ...(plan.method === 'multipart' && { renew: () => api.post<UploadPlan>(`/v1/annotation/uploads/${uploadId}/resume`, { uploadId: plan.uploadId }) }),
      }),
      signal,
    );
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    throw new UploadError(`sending ${opts.file} to storage failed: ${(err as Error).message}`);
  } finally {
    progress.stop();
  }
  await abortable(api.post(`/v1/annotation/uploads/${uploadId}/complete`, plan.method === 'multipart' ? { uploadId: plan.uploadId, parts } : {}), signal);
  output.out(`content: uploaded ${formatBytes(inputs.size)} as upload ${uploadId}`);
  return uploadId;
}

export async function runAnnotateProcess(opts: AnnotateProcessOptions, ctx: CommandContext): Promise<number> {
  let jobId: string | undefined;
  try {
    const inputs = await checkProcessInputs(opts);
    const uploadId = await sendContent(opts, inputs, ctx);
    const accepted = await abortable(
      ctx.api.post<{ jobId: string }>('/v1/annotation/process-content', {
        uploadId, projectId: opts.project.trim(), frameRate: inputs.frameRate, forceWrite: opts.force ? 1 : 0,
        autoAnnoVersion: inputs.autoAnnoVersion, requestType: inputs.requestType, contentType: inputs.contentType,
      }),
      ctx.signal,
    );
    jobId = accepted.jobId;
    ctx.output.out(`processing: job ${jobId}`);
    return finish(await followJob(jobId, ctx, jobDisplay(ctx.output)), ctx.output);
  } catch (err) {
    return finish(outcomeOf(err, jobId), ctx.output);
  }
}

interface Project {
  projectId: string;
  name: string;
  labels: string[];
  framesPerTask: number;
}

export async function runProjectsCreate(opts: { name: string; labels: string; framesPerTask?: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  try {
    const labels = opts.labels.split(',').map((l) => l.trim()).filter(Boolean);
    const framesPerTask = opts.framesPerTask === undefined ? undefined : wholeNumber(opts.framesPerTask, Number.NaN);
    if (labels.length === 0) throw new InputError('--labels needs at least one label (comma-separated)', []);
    if (framesPerTask !== undefined && !(framesPerTask >= 1)) throw new InputError(`--frames-per-task must be a whole number, at least 1`, []);
    const project = await abortable(ctx.api.post<Project>('/v1/annotation/projects', { name: opts.name, labels, ...(framesPerTask && { framesPerTask }) }), ctx.signal);
    ctx.output.out(opts.json ? JSON.stringify(project, null, 2) : `project ${project.projectId}: ${project.name} (${project.labels.join(', ')}; ${project.framesPerTask} frames per task)`);
    return finish({ kind: 'done' }, ctx.output, opts);
  } catch (err) {
    return finish(outcomeOf(err), ctx.output, opts);
  }
}

export async function runProjectsList(opts: { json?: boolean }, ctx: CommandContext): Promise<number> {
  try {
    const { projects } = await abortable(ctx.api.get<{ projects: Project[] }>('/v1/annotation/projects'), ctx.signal);
    if (opts.json) ctx.output.out(JSON.stringify(projects, null, 2));
    else for (const line of table([['id', 'name', 'frames/task', 'labels'], ...projects.map((p) => [p.projectId, p.name, String(p.framesPerTask), p.labels.join(',')])])) ctx.output.out(line);
    return finish({ kind: 'done' }, ctx.output, opts);
  } catch (err) {
    return finish(outcomeOf(err), ctx.output, opts);
  }
}

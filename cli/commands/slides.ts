// `framewise slides upload FILE… --session ID`: each file straight to storage (presigned), with its own progress,
// its sha256 checked by the API at complete. Resumable: the upload of a file (path, size, modification time) is
// remembered until it completes, so running the same command again sends only the parts storage does not hold.
// `framewise slides ls [--session ID]`: the sessions, or one session's images with their state and progress.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { OpenUploads, uploadKey } from '../resume.ts';
import { uploadFile, type UploadPlan } from '../upload.ts';
import { abortable, finish, formatBytes, InputError, Interrupted, outcomeOf, table, UploadError, type CommandContext } from './common.ts';
import { uploadProgress } from './ingest.ts';

interface SlideImage {
  id: string;
  filename: string;
  state: string;
  progress: number;
  width: number | null;
  height: number | null;
  error: { code: string; message: string } | null;
}

interface UploadState {
  image: SlideImage;
  plan?: UploadPlan;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The open upload of this file remembered from an earlier run, if the API still has it open. */
async function openUpload(uploads: OpenUploads, key: string, ctx: CommandContext): Promise<UploadState | undefined> {
  const remembered = await uploads.get(key);
  if (!remembered) return undefined;
  try {
    const state = await abortable(ctx.api.get<UploadState>(`/v1/slides/uploads/${remembered.uploadId}`), ctx.signal);
    if (state.image.state === 'uploading' && state.plan) return state;
  } catch (err) {
    if (err instanceof Interrupted) throw err;
  }
  await uploads.delete(key);
  return undefined;
}

async function uploadOne(file: string, sessionId: string, uploads: OpenUploads, ctx: CommandContext): Promise<SlideImage> {
  const s = await stat(file);
  const key = uploadKey({ apiUrl: ctx.api.baseUrl, videoId: `slides:${sessionId}`, path: file, size: s.size, mtimeMs: s.mtimeMs });
  let state = await openUpload(uploads, key, ctx);
  if (state) ctx.output.out(`${basename(file)}: resuming upload ${state.image.id}`);
  else {
    const sha256 = await sha256Of(file);
    state = await abortable(ctx.api.post<UploadState>('/v1/slides/uploads', { filename: basename(file), sizeBytes: s.size, sha256, sessionId }), ctx.signal);
    await uploads.set(key, state.image.id);
  }
  const id = state.image.id;
  const plan = state.plan!;
  const progress = uploadProgress(ctx.output, basename(file).slice(0, 13), s.size, ctx.now);
  let parts;
  try {
    parts = await abortable(
      uploadFile(plan, file, (sent) => progress.update(sent), {
        signal: ctx.signal,
        renew: async () => (await ctx.api.get<UploadState>(`/v1/slides/uploads/${id}`)).plan!,
        onResume: (held) => ctx.output.out(`${basename(file)}: ${held.parts} of ${held.of} parts already in storage`),
      }),
      ctx.signal,
    );
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    throw new UploadError(`sending ${file} to storage failed: ${(err as Error).message}`);
  } finally {
    progress.stop();
  }
  const image = await abortable(ctx.api.post<SlideImage>(`/v1/slides/uploads/${id}/complete`, plan.method === 'multipart' ? { parts } : {}), ctx.signal).finally(
    () => uploads.delete(key),
  );
  ctx.output.out(`${basename(file)}: uploaded ${formatBytes(s.size)} as image ${image.id} (${image.state})`);
  return image;
}

export async function runSlidesUpload(files: readonly string[], opts: { session: string }, ctx: CommandContext): Promise<number> {
  try {
    const issues: string[] = [];
    for (const file of files) {
      const s = await stat(file).catch(() => undefined);
      if (!s?.isFile() || s.size === 0) issues.push(`${file} is not a readable, non-empty file`);
    }
    if (!opts.session?.trim()) issues.push('--session needs the id of a slide session');
    if (issues.length) throw new InputError('the inputs are not usable; nothing was sent', issues);
    const uploads = new OpenUploads();
    for (const file of files) await uploadOne(file, opts.session.trim(), uploads, ctx);
    return finish({ kind: 'done' }, ctx.output);
  } catch (err) {
    return finish(outcomeOf(err), ctx.output);
  }
}

/** Every image of the session: the session's first page (a 404 when there is no such session), then page after page. */
async function sessionImages(session: string, ctx: CommandContext): Promise<SlideImage[]> {
  type Page = { images: SlideImage[]; nextCursor: string | null };
  let page = await abortable(ctx.api.get<Page>(`/v1/slides/sessions/${encodeURIComponent(session)}`), ctx.signal);
  const images = [...page.images];
  while (page.nextCursor) {
    const query = new URLSearchParams({ sessionId: session, limit: '1000', cursor: page.nextCursor });
    page = await abortable(ctx.api.get<Page>(`/v1/slides/images?${query}`), ctx.signal);
    images.push(...page.images);
  }
  return images;
}

export async function runSlidesLs(opts: { session?: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  try {
    if (!opts.session) {
      const { sessions } = await abortable(ctx.api.get<{ sessions: { id: string; name: string; createdAt: string }[] }>('/v1/slides/sessions'), ctx.signal);
      if (opts.json) ctx.output.out(JSON.stringify(sessions, null, 2));
      else for (const line of table([['id', 'name', 'created'], ...sessions.map((x) => [x.id, x.name, x.createdAt])])) ctx.output.out(line);
    } else {
      const images = await sessionImages(opts.session, ctx);
      if (opts.json) ctx.output.out(JSON.stringify(images, null, 2));
      else {
        const rows = images.map((i) => [i.id, i.filename, i.state, `${i.progress}%`, i.width ? `${i.width}×${i.height}` : '', i.error?.code ?? '']);
        for (const line of table([['id', 'file', 'state', 'progress', 'size', 'error'], ...rows])) ctx.output.out(line);
      }
    }
    return finish({ kind: 'done' }, ctx.output, opts);
  } catch (err) {
    return finish(outcomeOf(err), ctx.output, opts);
  }
}

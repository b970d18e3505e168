// Slides on the shared local cloud: a session; a multipart upload of a generated PNG (two parts) completed with a
// wrong sha256 (400, the image failed, never diced) and with the right one (diced to ready by the slide-image
// workflow); the Deep Zoom descriptor, a tile, IIIF info.json (rebased to the API) and tiles, thumbnail and preview
// through redirects with the right bytes and content types; the chunk protocol (in order; out of order, bad id and
// md5 mismatch refused); the reconciler (two runs at once) registering an inbox object, marking an image whose
// pyramid is gone missing, aborting an upload open too long and starting a job that never started; a file that is
// not an image failed with a clear error; a session that does not exist a 404; the CLI resuming an upload.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { syncSlides } from '../../functions/slides/sync.ts';
import { CHUNK_BYTES } from '../../functions/slides/uploads.ts';
import { closeDb, query } from '../../functions/lib/pg.ts';
import { createImage, moveImage, requireImage, uploadKey as sourceKey } from '../../functions/slides/store.ts';
import { startPyramid } from '../../functions/slides/images.ts';
import { CompleteMultipartUploadCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { OpenUploads, uploadKey } from '../../cli/resume.ts';
import { runFramewise } from '../support/processes.ts';
import { apiClient, eventually } from '../support/api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const api = apiClient();
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const BUCKET = 'framewise-media';
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Seeded noise, so the PNG does not compress below one multipart part (8 MiB). */
function noise(width: number, height: number, seed: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < pixels.length; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    pixels[i] = state & 0xff;
  }
  return pixels;
}

async function png(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp(noise(width, height, seed), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

async function jpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return sharp(noise(width, height, seed), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/** Sends the upload's parts (or its PUT) and answers the parts for complete. */
async function sendPlan(plan: Json, file: Buffer): Promise<{ partNumber: number; etag: string }[]> {
  if (plan.method === 'PUT') {
    const res = await fetch(plan.url, { method: 'PUT', headers: plan.headers, body: file });
    expect(res.status).toBe(200);
    return [];
  }
  const parts = [];
  for (const p of plan.parts) {
    const body = file.subarray((p.partNumber - 1) * plan.partSize, p.partNumber * plan.partSize);
    const res = await fetch(p.url, { method: 'PUT', body });
    expect(res.status).toBe(200);
    parts.push({ partNumber: p.partNumber, etag: res.headers.get('etag')! });
  }
  return parts;
}

async function chunk(query: string, range: string, body: Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${endpoints.api}/v1/slides/chunked${query}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/octet-stream', 'content-range': range, ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function followImage(id: string, timeoutMs = 60_000): Promise<Json> {
  return eventually(async () => {
    const image = (await api('GET', `/v1/slides/images/${id}`)).body;
    return image.state === 'ready' || image.state === 'failed' ? image : undefined;
  }, `image ${id}`, timeoutMs);
}

/** Follows the API's redirect: the object's bytes and content type. */
async function viaRedirect(path: string): Promise<{ bytes: Buffer; contentType: string }> {
  const res = await fetch(`${endpoints.api}${path}`, { headers: { authorization: `Bearer ${adminKey}` }, redirect: 'manual' });
  expect(res.status, path).toBe(302);
  const object = await fetch(res.headers.get('location')!);
  expect(object.status, path).toBe(200);
  return { bytes: Buffer.from(await object.arrayBuffer()), contentType: object.headers.get('content-type') ?? '' };
}

let sessionId: string;

beforeAll(async () => {
  Object.assign(process.env, localAdminEnvironment(endpoints));
  const session = await api('POST', '/v1/slides/sessions', { name: `slides ${STAMP}` });
  expect(session.status, JSON.stringify(session.body)).toBe(201);
  sessionId = session.body.id;
});

afterAll(async () => {
  await closeDb();
});

describe('slides', () => {
  let file: Buffer;
  let readyId: string;

  it('refuses a wrong sha256 at complete: a 400, the image failed and never diced', async () => {
    file = await png(1800, 1700, 11);
    expect(file.length).toBeGreaterThan(8 * 1024 * 1024);
    const started = await api('POST', '/v1/slides/uploads', { filename: 'noise.png', sizeBytes: file.length, sha256: sha256(Buffer.from('other')), sessionId });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body.plan.method).toBe('multipart');
    const parts = await sendPlan(started.body.plan, file);
    const completed = await api('POST', `/v1/slides/uploads/${started.body.image.id}/complete`, { parts });
    expect(completed.status).toBe(400);
    expect(completed.body.error.code).toBe('ChecksumMismatch');
    const image = (await api('GET', `/v1/slides/images/${started.body.image.id}`)).body;
    expect(image).toMatchObject({ state: 'failed', jobId: null, error: { code: 'ChecksumMismatch' } });
  });

  it('resumes a multipart upload from the parts S3 holds, completes it with the right sha256 and dices it to ready', async () => {
    const started = await api('POST', '/v1/slides/uploads', { filename: 'noise.png', sizeBytes: file.length, sha256: sha256(file), sessionId });
    expect(started.status).toBe(201);
    const plan = started.body.plan;
    // the first part only, then the upload as it stands: one part held, URLs for all
    const first = await fetch(plan.parts[0].url, { method: 'PUT', body: file.subarray(0, plan.partSize) });
    expect(first.status).toBe(200);
    const status = await api('GET', `/v1/slides/uploads/${started.body.image.id}`);
    expect(status.body.plan.uploaded.map((p: Json) => p.partNumber)).toEqual([1]);
    expect(status.body.image.progress).toBe(Math.floor((plan.partSize / file.length) * 10));
    // completing now is refused, naming the part missing, and the upload stays open
    const early = await api('POST', `/v1/slides/uploads/${started.body.image.id}/complete`, {});
    expect(early.status).toBe(400);
    expect(early.body.error).toMatchObject({ code: 'SizeMismatch', details: { missingParts: [2] } });
    expect((await api('GET', `/v1/slides/images/${started.body.image.id}`)).body.state).toBe('uploading');
    const missing = status.body.plan.parts.filter((p: Json) => !status.body.plan.uploaded.some((u: Json) => u.partNumber === p.partNumber));
    for (const p of missing) {
      const res = await fetch(p.url, { method: 'PUT', body: file.subarray((p.partNumber - 1) * plan.partSize, p.partNumber * plan.partSize) });
      expect(res.status).toBe(200);
    }
    const completed = await api('POST', `/v1/slides/uploads/${started.body.image.id}/complete`, {});
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body.state).toBe('dicing');
    const ready = await followImage(started.body.image.id);
    expect(ready, JSON.stringify(ready.error)).toMatchObject({ state: 'ready', progress: 100, width: 1800, height: 1700, levels: 12, tileSize: 256, format: 'png', bytes: file.length });
    readyId = ready.id;
    // the image is ready at Finish; the job's outcome is the workflow's next state
    const job = await eventually(async () => {
      const body = (await api('GET', `/v1/jobs/${ready.jobId}`)).body;
      return body.state === 'working' ? undefined : body;
    }, `job ${ready.jobId}`, 20_000);
    expect(job).toMatchObject({ kind: 'slide-image', state: 'succeeded' });
    const session = (await api('GET', `/v1/slides/sessions/${sessionId}`)).body;
    expect(session.images.map((i: Json) => [i.id, i.state])).toContainEqual([readyId, 'ready']);
  }, 90_000);

  it('completes an upload whose multipart upload S3 already assembled (a complete whose answer was lost), and refuses a second complete', async () => {
    const started = await api('POST', '/v1/slides/uploads', { filename: 'again.png', sizeBytes: file.length, sha256: sha256(file), sessionId });
    const plan = started.body.plan;
    const parts = await sendPlan(plan, file);
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: plan.key, UploadId: plan.uploadId, MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }));
    const completed = await api('POST', `/v1/slides/uploads/${started.body.image.id}/complete`, { parts });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(completed.body.state).toBe('dicing');
    const again = await api('POST', `/v1/slides/uploads/${started.body.image.id}/complete`, { parts });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('UploadNotOpen');
    expect((await followImage(started.body.image.id)).state).toBe('ready');
  }, 60_000);

  it('serves the pyramid through redirects with the right bytes and content types', async () => {
    const dzi = await viaRedirect(`/v1/slides/images/${readyId}/image.dzi`);
    expect(dzi.contentType).toBe('application/xml');
    for (const attribute of ['Format="jpg"', 'Overlap="1"', 'TileSize="256"', 'Height="1700"', 'Width="1800"']) expect(dzi.bytes.toString()).toContain(attribute);
    const tile = await viaRedirect(`/v1/slides/images/${readyId}/image_files/11/0_0.jpg`);
    expect(tile.contentType).toBe('image/jpeg');
    expect(await sharp(tile.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 257, height: 257 });
    const corner = await viaRedirect(`/v1/slides/images/${readyId}/image_files/0/0_0.jpg`);
    expect(await sharp(corner.bytes).metadata()).toMatchObject({ width: 1, height: 1 });

    const info = await fetch(`${endpoints.api}/v1/slides/images/${readyId}/iiif/info.json`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(info.status).toBe(200);
    expect(info.headers.get('content-type')).toContain('application/ld+json');
    const body = (await info.json()) as Json;
    expect(body).toMatchObject({ type: 'ImageService3', profile: 'level0', width: 1800, height: 1700, id: `${endpoints.api}/v1/slides/images/${readyId}/iiif` });
    const iiifTile = await viaRedirect(`/v1/slides/images/${readyId}/iiif/0,0,256,256/256,256/0/default.jpg`);
    expect(await sharp(iiifTile.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 256 });

    const thumbnail = await viaRedirect(`/v1/slides/images/${readyId}/thumbnail`);
    expect(thumbnail.contentType).toBe('image/jpeg');
    expect(await sharp(thumbnail.bytes).metadata()).toMatchObject({ width: 256, height: 242 });
    const preview = await viaRedirect(`/v1/slides/images/${readyId}/preview`);
    expect(await sharp(preview.bytes).metadata()).toMatchObject({ width: 1024, height: 967 });

    const traversal = await api('GET', `/v1/slides/images/${readyId}/image_files/1/..%2F..%2Fx.jpg`);
    expect(traversal.status).toBe(400);
  });

  it('takes the chunk protocol in order, and refuses a chunk out of order, an unknown id and an md5 that does not match', async () => {
    const data = await png(1600, 1400, 5);
    expect(data.length).toBeGreaterThan(CHUNK_BYTES);
    const first = await chunk(`?filename=noise.png&sessionId=${sessionId}`, `bytes 0-${CHUNK_BYTES - 1}/${data.length}`, data.subarray(0, CHUNK_BYTES));
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const fileId = first.body.fileId;
    expect(first.body).toMatchObject({ receivedBytes: CHUNK_BYTES, complete: false });

    // a chunk after a gap
    const gap = await chunk(`?fileId=${fileId}`, `bytes ${2 * CHUNK_BYTES}-${2 * CHUNK_BYTES + 9}/${data.length}`, Buffer.alloc(10));
    expect(gap.status).toBe(400);
    const misaligned = await chunk(`?fileId=${fileId}`, `bytes 100-${data.length - 1}/${data.length}`, data.subarray(100));
    expect(misaligned.status).toBe(400);
    expect(misaligned.body.error.code).toBe('BadChunk');
    const unknown = await chunk(`?fileId=00000000-0000-4000-8000-000000000000`, `bytes ${CHUNK_BYTES}-${data.length - 1}/${data.length}`, data.subarray(CHUNK_BYTES));
    expect(unknown.status).toBe(404);
    const noId = await chunk('', `bytes ${CHUNK_BYTES}-${data.length - 1}/${data.length}`, data.subarray(CHUNK_BYTES));
    expect(noId.body.error.code).toBe('MissingFileId');

    const last = await chunk(`?fileId=${fileId}&md5=${md5(data)}`, `bytes ${CHUNK_BYTES}-${data.length - 1}/${data.length}`, data.subarray(CHUNK_BYTES));
    expect(last.status, JSON.stringify(last.body)).toBe(200);
    expect(last.body).toMatchObject({ fileId, complete: true, receivedBytes: data.length });
    const ready = await followImage(fileId);
    expect(ready).toMatchObject({ state: 'ready', width: 1600, height: 1400, format: 'png', md5: md5(data) });
  }, 90_000);

  it('refuses a chunk out of order (409, naming the bytes received), takes one sent again, and refuses an md5 mismatch at the end (the image failed)', async () => {
    const data = await png(2100, 2000, 9);
    expect(Math.ceil(data.length / CHUNK_BYTES)).toBe(3);
    const range = (n: number) => `bytes ${n * CHUNK_BYTES}-${Math.min(data.length, (n + 1) * CHUNK_BYTES) - 1}/${data.length}`;
    const body = (n: number) => data.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES);
    const first = await chunk(`?filename=x.png&sessionId=${sessionId}`, range(0), body(0));
    const fileId = first.body.fileId;
    const skipped = await chunk(`?fileId=${fileId}`, range(2), body(2));
    expect(skipped.status).toBe(409);
    expect(skipped.body.error).toMatchObject({ code: 'ChunkOutOfOrder', details: { receivedBytes: CHUNK_BYTES } });
    // by header this time
    expect((await chunk('', range(1), body(1), { 'x-file-id': fileId })).body.receivedBytes).toBe(2 * CHUNK_BYTES);
    const again = await chunk(`?fileId=${fileId}`, range(1), body(1));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ receivedBytes: 2 * CHUNK_BYTES, complete: false });
    const last = await chunk(`?fileId=${fileId}&md5=${md5(Buffer.from('other'))}`, range(2), body(2));
    expect(last.status).toBe(400);
    expect(last.body.error.code).toBe('ChecksumMismatch');
    expect((await api('GET', `/v1/slides/images/${fileId}`)).body).toMatchObject({ state: 'failed', jobId: null });
  });

  it('fails a file that is not an image with a clear error, and a session that does not exist is a 404', async () => {
    const text = Buffer.from('this is not an image\n'.repeat(100));
    const started = await api('POST', '/v1/slides/uploads', { filename: 'notes.jpg', sizeBytes: text.length, sessionId });
    await sendPlan(started.body.plan, text);
    const completed = await api('POST', `/v1/slides/uploads/${started.body.image.id}/complete`, {});
    expect(completed.status).toBe(200);
    const failed = await followImage(started.body.image.id);
    expect(failed.state).toBe('failed');
    expect(failed.error.code).toBe('NotAnImage');
    expect(failed.error.message).toContain('notes.jpg is not an image');

    const noSession = await api('POST', '/v1/slides/uploads', { filename: 'a.jpg', sizeBytes: 10, sessionId: '00000000-0000-4000-8000-000000000000' });
    expect(noSession.status).toBe(404);
  }, 60_000);

  it('syncs: registers and dices an object copied into the inbox, and marks an image whose pyramid is gone missing', async () => {
    const key = `slides/inbox/${STAMP}/copied.jpg`;
    const data = await jpeg(600, 400, 3);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }));
    const options = { graceSeconds: 600, uploadMaxAgeSeconds: 7 * 86_400 };
    // two runs at once register it once
    const [a, b] = await Promise.all([syncSlides(options), syncSlides(options)]);
    const registered = [...a.registered, ...b.registered];
    const images = await Promise.all(registered.map(async (id) => (await api('GET', `/v1/slides/images/${id}`)).body));
    const ours = images.filter((i: Json) => i.filename === 'copied.jpg');
    expect(ours).toHaveLength(1);
    const ready = await followImage(ours[0].id);
    // nobody declared its checksums: the workflow's first read records its md5
    expect(ready).toMatchObject({ state: 'ready', width: 600, height: 400, md5: md5(data) });
    expect((await syncSlides(options)).registered).not.toContain(ours[0].id);

    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `slides/${readyId}/image.dzi` }));
    const [c, d] = await Promise.all([syncSlides(options), syncSlides(options)]);
    expect([...c.missing, ...d.missing].filter((id) => id === readyId)).toHaveLength(1);
    expect((await api('GET', `/v1/slides/images/${readyId}`)).body.state).toBe('missing');
  }, 60_000);

  it('syncs: aborts an upload open too long, and starts the job of an image left dicing under a job that never started', async () => {
    const options = { graceSeconds: 600, uploadMaxAgeSeconds: 3600 };
    const started = await api('POST', '/v1/slides/uploads', { filename: 'late.png', sizeBytes: file.length, sessionId });
    await query(`UPDATE slide_image SET updated_at = now() - interval '2 hours' WHERE id = $1`, [started.body.image.id]);
    const [a, b] = await Promise.all([syncSlides(options), syncSlides(options)]);
    expect([...a.aborted, ...b.aborted].filter((id) => id === started.body.image.id)).toHaveLength(1);
    expect((await api('GET', `/v1/slides/images/${started.body.image.id}`)).body).toMatchObject({ state: 'failed', error: { code: 'UploadAbandoned' } });
    await expect(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: started.body.plan.key, UploadId: started.body.plan.uploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });

    // an image moved to dicing by a process that died before it started the job
    const id = randomUUID();
    const key = sourceKey(id, 'orphan.jpg');
    const data = await jpeg(300, 200, 4);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }));
    const session = (await api('GET', `/v1/slides/sessions/${sessionId}`)).body;
    await createImage({ id, sessionId: session.id, filename: 'orphan.jpg', sizeBytes: data.length, s3Key: key });
    await moveImage(id, 'uploading', 'dicing', { jobId: `slide-${id}-1` });
    await query(`UPDATE slide_image SET updated_at = now() - interval '1 hour' WHERE id = $1`, [id]);
    expect((await syncSlides(options)).restarted).toContain(id);
    expect(await followImage(id)).toMatchObject({ state: 'ready', width: 300, height: 200 });
    expect((await requireImage(id)).jobId).toBe(`slide-${id}-1`);
  }, 60_000);

  it('framewise slides upload resumes an interrupted upload, sending only the missing parts; framewise slides ls lists the image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slides-cli-'));
    try {
      const path = join(dir, 'big.png');
      const data = await png(1800, 1700, 21);
      writeFileSync(path, data);
      // an earlier run that sent part 1 of 2 and was interrupted: its upload remembered in the state folder
      const started = await api('POST', '/v1/slides/uploads', { filename: 'big.png', sizeBytes: data.length, sha256: sha256(data), sessionId });
      const plan = started.body.plan;
      expect((await fetch(plan.parts[0].url, { method: 'PUT', body: data.subarray(0, plan.partSize) })).status).toBe(200);
      const stateDir = join(dir, 'state');
      const { size, mtimeMs } = statSync(path);
      await new OpenUploads(stateDir).set(uploadKey({ apiUrl: endpoints.api, videoId: `slides:${sessionId}`, path, size, mtimeMs }), started.body.image.id);

      const env = { FRAMEWISE_API_URL: endpoints.api, FRAMEWISE_API_KEY: adminKey, FRAMEWISE_STATE_DIR: stateDir };
      const upload = await runFramewise(['slides', 'upload', path, '--session', sessionId], { env, cwd: dir });
      expect(upload.stdout, upload.stderr).toMatch(/status: success/);
      expect(upload.stdout).toContain(`big.png: resuming upload ${started.body.image.id}`);
      expect(upload.stdout).toContain('big.png: 1 of 2 parts already in storage');
      expect(upload.stdout).toContain(`as image ${started.body.image.id} (dicing)`);
      await followImage(started.body.image.id);
      const ls = await runFramewise(['slides', 'ls', '--session', sessionId], { env, cwd: dir });
      expect(ls.stdout).toMatch(new RegExp(`${started.body.image.id}\\s+big\\.png\\s+ready\\s+100%\\s+1800×1700`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('checks an upload too large for complete in the workflow: a wrong sha256 fails the image before any tile, a right one is recorded', async () => {
    // as complete leaves an image above checkInApiMaxBytes: size checked, dicing, not yet verified
    const data = await jpeg(500, 300, 5);
    const diced = async (declared: string) => {
      const id = randomUUID();
      const key = sourceKey(id, 'large.jpg');
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }));
      await createImage({ id, sessionId, filename: 'large.jpg', sizeBytes: data.length, sha256: declared, s3Key: key });
      const image = await requireImage(id);
      expect(image.verified).toBe(false);
      expect(await startPyramid(image, 'uploading')).toBeDefined();
      return followImage(id);
    };
    const wrong = await diced(sha256(Buffer.from('other')));
    expect(wrong).toMatchObject({ state: 'failed', md5: null, error: { code: 'ChecksumMismatch' } });
    expect(wrong.error.message).toContain(`the object's is ${sha256(data)}`);
    const made = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `slides/${wrong.id}/` }));
    expect(made.KeyCount).toBe(0);
    // the image is failed by the workflow's failure step, its job's outcome a step later
    const job = await eventually(async () => {
      const body = (await api('GET', `/v1/jobs/${wrong.jobId}`)).body;
      return body.state === 'failed' ? body : undefined;
    }, 'the job to fail');
    expect(job).toMatchObject({ state: 'failed', error: { code: 'ChecksumMismatch' } });

    const right = await diced(sha256(data));
    expect(right).toMatchObject({ state: 'ready', width: 500, height: 300, md5: md5(data) });
    expect((await requireImage(right.id)).verified).toBe(true);
  }, 60_000);

  it('pages images by session and state in creation order, and refuses a cursor it did not answer', async () => {
    const all = (await api('GET', `/v1/slides/images?sessionId=${sessionId}&limit=1000`)).body;
    expect(all.nextCursor).toBeNull();
    expect(all.images.length).toBeGreaterThanOrEqual(5);
    const paged: Json[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: Json } = await api('GET', `/v1/slides/images?sessionId=${sessionId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.images.length).toBeLessThanOrEqual(2);
      paged.push(...res.body.images);
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(all.images.length / 2));
    expect(paged.map((i) => i.id)).toEqual(all.images.map((i: Json) => i.id));
    const createdAt = paged.map((i) => i.createdAt);
    expect(createdAt).toEqual([...createdAt].sort());
    const session = (await api('GET', `/v1/slides/sessions/${sessionId}`)).body;
    expect(session.images.map((i: Json) => i.id)).toEqual(all.images.slice(0, 100).map((i: Json) => i.id));

    const failed = (await api('GET', `/v1/slides/images?sessionId=${sessionId}&state=failed&limit=1000`)).body.images;
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.map((i: Json) => i.id)).toEqual(all.images.filter((i: Json) => i.state === 'failed').map((i: Json) => i.id));

    for (const bad of ['nope', randomUUID()]) {
      const res = await api('GET', `/v1/slides/images?cursor=${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('InvalidCursor');
    }
    expect((await api('GET', '/v1/slides/images?limit=0')).status).toBe(400);
    expect((await api('GET', '/v1/slides/images?state=sleeping')).status).toBe(400);
  });
});

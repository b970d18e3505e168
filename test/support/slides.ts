// Slide images through the API as a client uploads them: the plan the API answers (one presigned PUT, or parts),
// then complete, then the workflow's outcome.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { apiClient, eventually } from './api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Api = ReturnType<typeof apiClient>;

/** Uploads `file` into the session by the plan the API answers, and leaves it uncompleted: its image's id. */
export async function uploadSlide(api: Api, sessionId: string, filename: string, file: Buffer): Promise<string> {
  const sha256 = createHash('sha256').update(file).digest('hex');
  const started = await api('POST', '/v1/slides/uploads', { filename, sizeBytes: file.length, sha256, sessionId });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const plan = started.body.plan;
  const sends = plan.method === 'PUT'
    ? [{ url: plan.url, headers: plan.headers, body: file }]
    : plan.parts.map((p: Json) => ({ url: p.url, headers: {}, body: file.subarray((p.partNumber - 1) * plan.partSize, p.partNumber * plan.partSize) }));
  for (const s of sends) expect((await fetch(s.url, { method: 'PUT', headers: s.headers, body: s.body })).status).toBe(200);
  return started.body.image.id;
}

/** Completes the upload of image `id` and waits until its pyramid is ready or failed: the image. */
export async function completeSlide(api: Api, id: string, timeoutMs = 30_000): Promise<Json> {
  const completed = await api('POST', `/v1/slides/uploads/${id}/complete`, {});
  expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  return eventually(async () => {
    const image = (await api('GET', `/v1/slides/images/${id}`)).body;
    return image.state === 'ready' || image.state === 'failed' ? image : undefined;
  }, `image ${id}`, timeoutMs);
}

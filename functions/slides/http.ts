// slides-api: sessions of slide images, their uploads (presigned multipart straight to S3, and the older
// Content-Range chunk protocol), the images as they stand, and their pyramids through short-lived redirects.
import { httpHandler } from '../lib/http.ts';
import { defineRoute, Reply, routeTable } from '../lib/route.ts';
import { z } from '../lib/zod.ts';
import { fileOrigin } from './file-url.ts';
import { iiifInfo, imageFile, imageFileUrl } from './images.ts';
import { contentTypeOf, PYRAMID_FILES } from './pyramid.ts';
import * as s from './schemas.ts';
import { createSession, listImages, listSessions, requireImage, requireSession, type SlideImageRecord } from './store.ts';
import { abortUpload, CHUNK_BYTES, completeUpload, receiveChunk, startUpload, uploadStatus } from './uploads.ts';
import { API_KEY_STORAGE, VIEWER_ASSETS, viewerAsset, viewerPage, viewerPolicy } from './viewer.ts';

const TAG = 'slides';
const ROLES = ['analyst'] as const;

/** An image as clients see it (no object keys or upload ids). */
const view = (image: SlideImageRecord) => s.Image.parse(image);

// The browser may reuse a redirect until a minute before its URL expires.
const redirect = async (id: string, file: string): Promise<Reply> => {
  const { url, expiresIn } = await imageFileUrl(id, file);
  return new Reply({ status: 302, headers: { location: url, 'cache-control': `private, max-age=${Math.max(0, expiresIn - 60)}` } });
};
const REDIRECT_HEADERS = { location: 'A short-lived URL of the object (CloudFront signed in AWS, presigned S3 locally), valid for a few minutes' };

/** The URL this API serves an image's IIIF service at, as the request reached it. */
function iiifServiceUrl(headers: Readonly<Record<string, string>>, id: string): string {
  const host = headers['x-forwarded-host'] ?? headers.host ?? 'localhost';
  const local = /^(localhost|127\.|\[::1\])/.test(host);
  const proto = headers['x-forwarded-proto'] ?? (local ? 'http' : 'https');
  return `${proto}://${host}/v1/slides/images/${id}/iiif`;
}

export const slidesRoutes = [
  defineRoute({
    key: 'POST /v1/slides/sessions', tag: TAG, roles: ROLES,
    summary: 'Create a session (a collection of slide images)',
    description: '409 when a session has this name.',
    body: s.NewSession, response: s.Session,
    handle: ({ body }) => createSession(body.name),
  }),
  defineRoute({
    key: 'GET /v1/slides/sessions', tag: TAG, roles: ROLES,
    summary: 'Sessions, oldest first',
    response: s.SessionList, errors: [],
    handle: async () => ({ sessions: await listSessions() }),
  }),
  defineRoute({
    key: 'GET /v1/slides/sessions/{id}', tag: TAG, roles: ROLES,
    summary: 'A session and its first images, with their state and progress',
    params: s.IdParams, response: s.SessionWithImages,
    handle: async ({ params }) => {
      const session = await requireSession(params.id);
      const page = await listImages({ sessionId: session.id, limit: s.IMAGE_PAGE_DEFAULT });
      return { ...session, images: page.images.map(view), nextCursor: page.nextCursor };
    },
  }),
  defineRoute({
    key: 'POST /v1/slides/uploads', tag: TAG, roles: ROLES,
    summary: 'Start uploading a slide image into a session: a presigned PUT, or a presigned multipart upload',
    description: 'The image is `uploading` until POST …/complete; nothing processes it before. 404 when the session does not exist.',
    body: s.NewUpload, response: s.UploadStarted,
    handle: async ({ body }) => {
      const { image, plan } = await startUpload(body);
      return { image: view(image), plan };
    },
  }),
  defineRoute({
    key: 'GET /v1/slides/uploads/{id}', tag: TAG, roles: ROLES,
    summary: 'An upload as it stands: while open, the parts S3 holds and fresh URLs for every part (resume by sending the missing ones)',
    params: s.IdParams, response: s.UploadState,
    handle: async ({ params }) => {
      const { image, plan } = await uploadStatus(params.id);
      return { image: view(image), plan };
    },
  }),
  defineRoute({
    key: 'POST /v1/slides/uploads/{id}/complete', tag: TAG, roles: ROLES,
    summary: 'Complete an upload: assemble it, check its size and sha256 against the declared ones, and start its pyramid',
    description:
      'A size or checksum that does not match is a 400 (SizeMismatch, ChecksumMismatch): the image is failed and never processed. ' +
      'Parts missing are a 400 naming them; the upload stays open.',
    params: s.IdParams, body: s.CompleteUpload, response: s.Image, status: 200,
    handle: async ({ params, body }) => view(await completeUpload(params.id, body.parts)),
  }),
  defineRoute({
    key: 'DELETE /v1/slides/uploads/{id}', tag: TAG, roles: ROLES,
    summary: 'Abort an upload: its parts are discarded and the image is failed (UploadAborted)',
    params: s.IdParams,
    handle: ({ params }) => abortUpload(params.id),
  }),
  defineRoute({
    key: 'PUT /v1/slides/chunked', tag: TAG, roles: ROLES,
    summary: 'The chunk protocol: one chunk of a file, by Content-Range: bytes <first>-<last>/<total>',
    description:
      `Chunks are ${CHUNK_BYTES} bytes (5 MiB) each, the last one shorter, sent in order: each is one part of a multipart upload. ` +
      'The first chunk (bytes 0-…) answers the fileId; later chunks carry it (query fileId or header x-file-id). A chunk that is not ' +
      'the next one is a 409 ChunkOutOfOrder naming the bytes received; one already received is answered again without change; a ' +
      'misaligned or wrongly sized one is a 400 BadChunk; an unknown fileId a 404. The last chunk may carry the md5 of the whole file: ' +
      'a mismatch is a 400 ChecksumMismatch and the image is failed.',
    query: s.ChunkQueryLoose,
    rawBody: { contentType: 'application/octet-stream', description: 'The bytes of the chunk' },
    response: s.ChunkReceived, status: 200, errors: [404, 409],
    handle: async ({ query, headers, raw }) => {
      const received = await receiveChunk({
        contentRange: headers['content-range'], fileId: query.fileId ?? headers['x-file-id'], filename: query.filename, sessionId: query.sessionId,
        md5: query.md5, body: raw,
      });
      return { ...received, image: view(received.image) };
    },
  }),
  defineRoute({
    key: 'GET /v1/slides/images', tag: TAG, roles: ROLES,
    summary: 'Slide images, oldest first, a page at a time; by session and state',
    description: 'A cursor that is not a nextCursor this API answered is a 400 InvalidCursor.',
    query: s.ImageListQuery, response: s.ImageList,
    handle: async ({ query }) => {
      const page = await listImages({ sessionId: query.sessionId, state: query.state, limit: query.limit ?? s.IMAGE_PAGE_DEFAULT, cursor: query.cursor });
      return { images: page.images.map(view), nextCursor: page.nextCursor };
    },
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}', tag: TAG, roles: ROLES,
    summary: 'A slide image: its state, progress, metadata (width, height, levels, tile size, format, bytes) and error',
    params: s.IdParams, response: s.Image,
    handle: async ({ params }) => view(await requireImage(params.id)),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/image.dzi', tag: TAG, roles: ROLES,
    summary: "The image's Deep Zoom descriptor (a redirect); its tiles are at image_files/ beside it",
    description: '409 ImageNotReady until the image is ready.',
    params: s.IdParams, status: 302, headers: REDIRECT_HEADERS, errors: [404, 409],
    handle: ({ params }) => redirect(params.id, imageFile.dzi),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/image_files/{level}/{tile}', tag: TAG, roles: ROLES,
    summary: 'A Deep Zoom tile, {col}_{row}.jpg (a redirect)',
    params: s.TileParams, status: 302, headers: REDIRECT_HEADERS, errors: [404, 409],
    handle: ({ params }) => redirect(params.id, imageFile.deepZoomTile(params.level, params.tile)),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/iiif/info.json', tag: TAG, roles: ROLES,
    summary: "The image's IIIF Image API 3.0 (level 0) info.json, its id this API's URL of the service",
    params: s.IdParams, errors: [404, 409],
    handle: async ({ params, headers }) =>
      new Reply({
        status: 200,
        headers: { 'content-type': contentTypeOf(PYRAMID_FILES.iiifInfo) },
        body: await iiifInfo(params.id, iiifServiceUrl(headers, params.id)),
      }),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/iiif/{region}/{size}/{rotation}/{quality}', tag: TAG, roles: ROLES,
    summary: 'An IIIF tile or size that info.json lists (a redirect)',
    params: s.IiifTileParams, status: 302, headers: REDIRECT_HEADERS, errors: [404, 409],
    handle: ({ params }) => redirect(params.id, imageFile.iiif(params.region, params.size, params.rotation, params.quality)),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/thumbnail', tag: TAG, roles: ROLES,
    summary: 'The thumbnail, 256 px on its longest side (a redirect)',
    params: s.IdParams, status: 302, headers: REDIRECT_HEADERS, errors: [404, 409],
    handle: ({ params }) => redirect(params.id, imageFile.thumbnail),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/preview', tag: TAG, roles: ROLES,
    summary: 'The preview, 1024 px on its longest side (a redirect)',
    params: s.IdParams, status: 302, headers: REDIRECT_HEADERS, errors: [404, 409],
    handle: ({ params }) => redirect(params.id, imageFile.preview),
  }),
  defineRoute({
    key: 'GET /v1/slides/images/{id}/view', tag: TAG, roles: 'public',
    summary: 'The viewer page of a slide image (OpenSeadragon): public, it holds no data; its script reads the image with an API key',
    description:
      `The page takes the API key from the tab's sessionStorage (\`${API_KEY_STORAGE}\`) or asks for it, then reads the image, its ` +
      'Deep Zoom descriptor and tiles with it, and says so when the key is refused, the image does not exist or is not ready.',
    params: s.IdParams,
    response: z.string().openapi({ description: 'An HTML page' }),
    alternatives: { 'text/html': 'The page' },
    errors: [],
    handle: async () =>
      new Reply({
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-cache',
          'content-security-policy': viewerPolicy(await fileOrigin()),
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        },
        raw: Buffer.from(viewerPage()),
      }),
  }),
  defineRoute({
    key: 'GET /v1/slides/viewer/{asset}', tag: TAG, roles: 'public',
    summary: "A file of the viewer page (OpenSeadragon's script and button images, the page's script and stylesheet)",
    params: z.object({ asset: z.enum(VIEWER_ASSETS) }),
    query: z.object({ v: z.string().max(100).optional().openapi({ description: "The file's version, as the page names it" }) }),
    response: z.string().openapi({ description: 'JavaScript, CSS or PNG' }),
    handle: async ({ params, query, headers }) => {
      const asset = viewerAsset(params.asset);
      const gzip = !asset.contentType.startsWith('image/') && /\bgzip\b/i.test(headers['accept-encoding'] ?? '');
      return new Reply({
        status: 200,
        headers: {
          'content-type': asset.contentType,
          // the page names each file with its version: a new version is a new URL (the button images, which
          // OpenSeadragon names, are cached a day)
          'cache-control': query.v === asset.version ? 'public, max-age=31536000, immutable' : 'public, max-age=86400',
          'x-content-type-options': 'nosniff',
          vary: 'accept-encoding',
          ...(gzip && { 'content-encoding': 'gzip' }),
        },
        raw: gzip ? asset.gzip : asset.body,
      });
    },
  }),
];

export const routes = routeTable(slidesRoutes);
export const handler = httpHandler(routes);

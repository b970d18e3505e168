// Multipart uploads' parts and their completion, kept on disk rather than in memory. fauxqs keeps every part's
// body in memory until the upload completes, then hashes every part again, concatenates them all into one Buffer
// and writes it in one blocking call: for a 482 MB video, 2.2 s with the event loop blocked and the object in
// memory twice (a 3-hour game would not fit). Here a part is written to its file as it arrives (off the event
// loop) and forgotten: its body is streamed from the request to a file as it comes, hashed on the way, and never
// held whole; completion takes the multipart ETag from the parts' own ETags (an ETag is the part's MD5) and
// streams the part files into the object's file. The files are the ones fauxqs writes and loads at its next start
// (`_multipart/{uploadId}/parts/{n}.data` and `.meta.json`; the object's `.data` and `.meta.json`), and what is
// kept in memory of the object is what fauxqs keeps of a persisted one. Requests this does not cover (copies of
// parts, aws-chunked bodies, checksums) are left to fauxqs.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { s3ErrorXml, xmlText, type HookReply } from './s3-xml.ts';

/** A part as fauxqs's store holds it; `body` is empty for a part kept on disk only (its size is then `size`). */
export interface StoredPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly body: Buffer;
  readonly size?: number;
  readonly lastModified: Date;
  readonly checksumValue?: string;
}

interface StoredUpload {
  readonly uploadId: string;
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly metadata: Record<string, string>;
  readonly parts: Map<number, StoredPart>;
  readonly checksumAlgorithm?: string;
  readonly contentLanguage?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
  readonly contentEncoding?: string;
}

/** The parts of fauxqs's S3 store this uses. */
interface Store {
  readonly multipartUploads: Map<string, StoredUpload>;
  readonly multipartUploadsByBucket: Map<string, Set<string>>;
  readonly buckets: Map<string, Map<string, object>>;
  readonly spy?: { addMessage(m: object): void };
}

interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** A part's body as the body parser left it: in a file of its own, hashed. */
export interface ReceivedPart {
  readonly receivedFile: string;
  readonly md5: string;
  readonly size: number;
}

const isReceivedPart = (body: unknown): body is ReceivedPart => typeof body === 'object' && body !== null && 'receivedFile' in body;

/** An UploadPart these hooks take whole: its body is bytes of the part, nothing to decode or check beside its MD5. */
function isPlainPart(request: Pick<Request, 'method' | 'url' | 'headers'>): boolean {
  if (request.method !== 'PUT') return false;
  const query = new URL(request.url, 'http://local').searchParams;
  const partNumber = Number(query.get('partNumber'));
  return (
    query.has('uploadId') && Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= MAX_PART_NUMBER &&
    !request.headers['x-amz-copy-source'] &&
    !String(request.headers['content-encoding'] ?? '').includes('aws-chunked') &&
    !Object.keys(request.headers).some((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm')
  );
}

/**
 * The S3 body parser (Fastify's, for every content type): a plain part goes to a file under `receivedDir` (a
 * ReceivedPart), anything else is collected into a Buffer as before. Bodies over `limit` bytes are a 413.
 */
export function s3BodyParser(receivedDir: string, limit: number) {
  // What a crash left half received is nobody's.
  rmSync(receivedDir, { recursive: true, force: true });
  mkdirSync(receivedDir, { recursive: true });
  const tooLarge = () => Object.assign(new Error('Request body is too large'), { statusCode: 413 });
  return (request: Pick<Request, 'method' | 'url' | 'headers'>, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void): void => {
    let size = 0;
    if (!isPlainPart(request)) {
      const chunks: Buffer[] = [];
      payload.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return payload.emit('error', tooLarge());
        chunks.push(chunk);
      });
      payload.once('error', (err: Error) => done(err));
      payload.once('end', () => done(null, Buffer.concat(chunks, size)));
      return;
    }
    const receivedFile = join(receivedDir, randomUUID());
    const hash = createHash('md5');
    const file = createWriteStream(receivedFile);
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      file.destroy();
      void rm(receivedFile, { force: true }).finally(() => done(err));
    };
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(tooLarge());
      hash.update(chunk);
      if (!file.write(chunk)) {
        payload.pause();
        file.once('drain', () => payload.resume());
      }
    });
    payload.once('error', fail);
    file.once('error', fail);
    payload.once('end', () => {
      if (failed) return;
      file.end(() => done(null, { receivedFile, md5: hash.digest('hex'), size } satisfies ReceivedPart));
    });
  };
}

/** Removes a received part's file that no hook took (the request was refused, or failed), before the answer leaves. A Fastify onSend hook. */
export const dropUntakenPart = async <T>(request: { body?: unknown }, _reply: unknown, payload: T): Promise<T> => {
  if (isReceivedPart(request.body)) await rm(request.body.receivedFile, { force: true });
  return payload;
};

/** S3 refuses a completion whose parts, the last excepted, are smaller. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

export const partSize = (p: StoredPart): number => p.size ?? p.body.length;

/** fauxqs's error when an upload id is unknown (never started, completed or aborted). */
const noSuchUpload = (reply: HookReply) =>
  reply.code(404).header('content-type', 'application/xml').send(s3ErrorXml('NoSuchUpload', 'The specified multipart upload does not exist.'));
const invalidPart = (reply: HookReply, code: string, message: string) =>
  reply.code(400).header('content-type', 'application/xml').send(s3ErrorXml(code, message));

/** The multipart ETag: the MD5 of the parts' binary MD5s, and their count. */
export function multipartEtag(partEtags: readonly string[]): string {
  const digests = Buffer.concat(partEtags.map((e) => Buffer.from(e.replaceAll('"', ''), 'hex')));
  return `"${createHash('md5').update(digests).digest('hex')}-${partEtags.length}"`;
}

/** `<Part>` elements of a CompleteMultipartUpload body, in the order given. */
export function completionParts(xml: string): { partNumber: number; etag: string }[] {
  const unescape = (s: string) => s.replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  return [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].flatMap(([, block = '']) => {
    const partNumber = /<PartNumber>(\d+)<\/PartNumber>/.exec(block)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(block)?.[1];
    return partNumber && etag ? [{ partNumber: Number(partNumber), etag: unescape(etag) }] : [];
  });
}

/**
 * Fastify preHandler hooks (registered after the signature and access checks) answering UploadPart and
 * CompleteMultipartUpload as described above. `multipartDir` and `objectFile` are FileS3Persistence's;
 * `forgetBody` drops a cached body of the object being replaced.
 */
export function multipartHooks(o: {
  store: Store;
  multipartDir: string;
  objectFile: (bucket: string, key: string) => string;
  forgetBody: (bucket: string, key: string) => void;
}) {
  const partFile = (uploadId: string, partNumber: number, ext: string) => join(o.multipartDir, uploadId, 'parts', `${partNumber}.${ext}`);

  async function uploadPart(request: Request, reply: HookReply, url: URL, uploadId: string): Promise<HookReply | undefined> {
    if (!isReceivedPart(request.body)) return undefined;
    const received = request.body;
    const partNumber = Number(url.searchParams.get('partNumber'));
    const upload = o.store.multipartUploads.get(uploadId);
    if (!upload) return noSuchUpload(reply);
    const part: StoredPart = { partNumber, etag: `"${received.md5}"`, body: Buffer.alloc(0), size: received.size, lastModified: new Date() };
    // The data before its meta: fauxqs loads a part by its meta file.
    await mkdir(dirname(partFile(uploadId, partNumber, 'data')), { recursive: true });
    await rename(received.receivedFile, partFile(uploadId, partNumber, 'data'));
    await writeFile(partFile(uploadId, partNumber, 'meta.json'), JSON.stringify({ partNumber, etag: part.etag, lastModified: part.lastModified.toISOString() }));
    // Aborted or completed meanwhile: the part is not the upload's (its folder is removed, or is being).
    if (o.store.multipartUploads.get(uploadId) !== upload) return noSuchUpload(reply);
    upload.parts.set(partNumber, part);
    return reply.code(200).header('etag', part.etag).send('');
  }

  async function complete(request: Request, reply: HookReply, uploadId: string): Promise<HookReply | undefined> {
    const upload = o.store.multipartUploads.get(uploadId);
    if (!upload) return noSuchUpload(reply);
    if (upload.checksumAlgorithm || !Buffer.isBuffer(request.body)) return undefined;
    const specs = completionParts(request.body.toString('utf8'));
    if (specs.length === 0) return invalidPart(reply, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    if (specs.some((spec, i) => i > 0 && spec.partNumber <= specs[i - 1]!.partNumber)) {
      return invalidPart(reply, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    }
    const parts: StoredPart[] = [];
    for (const [i, spec] of specs.entries()) {
      const part = upload.parts.get(spec.partNumber);
      if (!part || part.etag.replaceAll('"', '') !== spec.etag.replaceAll('"', '')) {
        return invalidPart(reply, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.');
      }
      if (i < specs.length - 1 && partSize(part) < MIN_PART_BYTES) {
        return invalidPart(reply, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
      }
      parts.push(part);
    }
    // Taken now, so that a second completion or an abort racing this one finds no upload.
    o.store.multipartUploads.delete(uploadId);
    o.store.multipartUploadsByBucket.get(upload.bucket)?.delete(uploadId);

    const dataFile = o.objectFile(upload.bucket, upload.key);
    await mkdir(dirname(dataFile), { recursive: true });
    // Written aside and renamed: a reader of the object's file never sees half of it.
    const partial = `${dataFile}.${randomUUID()}.partial`;
    const out = await open(partial, 'w');
    try {
      for (const part of parts) {
        const from = part.body.length > 0 ? [part.body] : createReadStream(partFile(uploadId, part.partNumber, 'data'), { highWaterMark: 4 * 1024 * 1024 });
        for await (const chunk of from) await out.write(chunk as Buffer);
      }
      await out.close();
      await rename(partial, dataFile);
    } catch (err) {
      await out.close().catch(() => undefined);
      await rm(partial, { force: true });
      o.store.multipartUploads.set(uploadId, upload);
      o.store.multipartUploadsByBucket.get(upload.bucket)?.add(uploadId);
      throw err;
    }
    let offset = 0;
    const boundaries = parts.map((p) => {
      const b = { partNumber: p.partNumber, offset, length: partSize(p) };
      offset += b.length;
      return b;
    });
    const obj = {
      key: upload.key,
      contentType: upload.contentType,
      contentLength: offset,
      etag: multipartEtag(parts.map((p) => p.etag)),
      lastModified: new Date(),
      metadata: upload.metadata,
      parts: boundaries,
      ...(upload.contentLanguage && { contentLanguage: upload.contentLanguage }),
      ...(upload.contentDisposition && { contentDisposition: upload.contentDisposition }),
      ...(upload.cacheControl && { cacheControl: upload.cacheControl }),
      ...(upload.contentEncoding && { contentEncoding: upload.contentEncoding }),
    };
    await writeFile(dataFile.replace(/\.data$/, '.meta.json'), JSON.stringify({ ...obj, lastModified: obj.lastModified.toISOString() }));
    o.forgetBody(upload.bucket, upload.key);
    o.store.buckets.get(upload.bucket)?.set(upload.key, { ...obj, body: Buffer.alloc(0) });
    await rm(join(o.multipartDir, uploadId), { recursive: true, force: true });
    // What fauxqs reports of a completed upload: the notifications follow from it.
    o.store.spy?.addMessage({ service: 's3', bucket: upload.bucket, key: upload.key, status: 'uploaded', timestamp: Date.now() });
    const host = String(request.headers.host ?? 'localhost');
    return reply
      .code(200)
      .header('content-type', 'application/xml')
      .send(
        '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
          `<Location>${xmlText(`http://${host}/${upload.bucket}/${upload.key}`)}</Location><Bucket>${xmlText(upload.bucket)}</Bucket>` +
          `<Key>${xmlText(upload.key)}</Key><ETag>${xmlText(obj.etag)}</ETag></CompleteMultipartUploadResult>`,
      );
  }

  return async (request: Request, reply: HookReply): Promise<HookReply | undefined> => {
    const url = new URL(request.url, 'http://local');
    const uploadId = url.searchParams.get('uploadId');
    if (uploadId === null) return undefined;
    // An upload id is valid only for the object it was started for.
    const [, bucket = '', ...key] = url.pathname.split('/');
    const upload = o.store.multipartUploads.get(uploadId);
    if (upload && (upload.bucket !== decodeURIComponent(bucket) || upload.key !== decodeURIComponent(key.join('/')))) return noSuchUpload(reply);
    if (request.method === 'PUT' && url.searchParams.has('partNumber')) return uploadPart(request, reply, url, uploadId);
    if (request.method === 'POST') return complete(request, reply, uploadId);
    return undefined;
  };
}

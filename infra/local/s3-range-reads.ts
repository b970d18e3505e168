// Ranged GETs of large objects, read from the object's file rather than through fauxqs. fauxqs reads a persisted
// object's whole file for every GET, and the body cache (s3sqs.ts) keeps no object larger than a quarter of it: so
// each range read of a video (ffmpeg and ffprobe make a few per run, reading the rest of the video from where they
// seek) read the whole video into memory, blocking the event loop while it did, and held it while the answer was
// streamed. Here the range is streamed from the file, answered with fauxqs's own headers. Anything else a GET may
// ask for (conditions, a part number, a malformed range, an object in memory) is left to fauxqs.
//
// The range is read into a few buffers reused from one answer to the next, each read into again only once the
// socket has taken what it held. A stream of the file reads each chunk into a new buffer: the hundreds of MB an ingest
// reads from its video (ffmpeg's range reads) then drove the local cloud's V8 heap through a full collection every
// second or so (20 of them while the segments ran, against 1 with the buffers reused), costing both cores' time.
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { SIGNING_PARAMETER } from './s3-received-bodies.ts';

/** What fauxqs keeps in memory of a persisted object (its body is read on demand and empty here). */
export interface StoredObjectMeta {
  readonly body: Buffer;
  readonly contentLength: number;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: Date;
  readonly metadata: Record<string, string>;
  readonly contentLanguage?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
  readonly contentEncoding?: string;
}

interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params: unknown;
}

interface Reply {
  code(status: number): Reply;
  hijack(): Reply;
  header(name: string, value: string | number): Reply;
  send(body: NodeJS.ReadableStream): Reply;
  readonly raw: ServerResponse;
}

/** Buffers ranged answers are read into, and those free again (at most POOL_MAX kept). */
const CHUNK_BYTES = 1024 * 1024;
const POOL_MAX = 16;
const freeChunks: Buffer[] = [];
const lentChunks = new WeakSet<ArrayBufferLike>();

function takeChunk(): Buffer {
  const chunk = freeChunks.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  lentChunks.add(chunk.buffer);
  return chunk;
}

/** `written` is a slice of a chunk the socket has taken (or dropped): the chunk may be read into again. */
function giveBackChunk(written: unknown): void {
  if (!Buffer.isBuffer(written) || !lentChunks.has(written.buffer)) return;
  lentChunks.delete(written.buffer);
  if (freeChunks.length < POOL_MAX) freeChunks.push(Buffer.from(written.buffer, 0, CHUNK_BYTES));
}

/**
 * Bytes start..end of a file, for `res`: read into lent chunks, each given back when the response's write of it
 * completes (its callback), which is when the socket no longer holds it.
 */
class FileRangeBody extends Readable {
  private file?: FileHandle;
  private position: number;

  constructor(
    private readonly path: string,
    start: number,
    private readonly end: number,
    res: ServerResponse,
  ) {
    super({ highWaterMark: 0 });
    this.position = start;
    const write = res.write;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      const callback = typeof rest.at(-1) === 'function' ? (rest.pop() as (err?: Error | null) => void) : undefined;
      return write.call(this, chunk, ...(rest as [BufferEncoding]), (err?: Error | null) => {
        giveBackChunk(chunk);
        callback?.(err);
      });
    } as ServerResponse['write'];
  }

  override _construct(callback: (err?: Error | null) => void): void {
    open(this.path, 'r').then((file) => ((this.file = file), callback()), callback);
  }

  override _read(): void {
    const left = this.end - this.position + 1;
    if (left <= 0) return void this.push(null);
    const chunk = takeChunk();
    this.file!.read(chunk, 0, Math.min(CHUNK_BYTES, left), this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error(`${this.path} ended before byte ${this.end}`));
        this.position += bytesRead;
        this.push(chunk.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.file) return callback(err);
    this.file.close().then(() => callback(err), () => callback(err));
  }
}

/** (A checksum asked for changes nothing: S3 gives none with a range.) */
const CONDITIONS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

/** An object's file under FileS3Persistence's bucketsDir, named as fauxqs names it (encodeKeyToPath). */
export function objectFile(bucketsDir: string, bucket: string, key: string): string {
  // eslint-disable-next-line no-control-regex
  const encoded = key.replace(/[<>:"|?*\\%\x00-\x1f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return join(bucketsDir, bucket, 'objects', `${encoded.split('/').join(sep)}.data`);
}

/** A single satisfiable `bytes=` range of an object of `total` bytes, as fauxqs's parseRange reads it; else undefined. */
export function byteRange(header: string, total: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 || suffix > total ? undefined : { start: total - suffix, end: total - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? total - 1 : Math.min(Number(m[2]), total - 1);
  return start > end || start >= total ? undefined : { start, end };
}

/**
 * A Fastify preHandler (after the signature and access checks) answering a plain ranged GetObject of an object of at
 * least `minBytes` from its file. `head` gives the object's metadata or undefined (no such bucket or key: fauxqs
 * answers); `file` where its body is.
 */
export function rangeReadHook(o: {
  minBytes: number;
  head: (bucket: string, key: string) => StoredObjectMeta | undefined;
  file: (bucket: string, key: string) => string;
}) {
  return async (request: Request, reply: Reply): Promise<Reply | undefined> => {
    if (request.method !== 'GET') return undefined;
    const range = request.headers.range;
    if (typeof range !== 'string' || CONDITIONS.some((h) => request.headers[h] !== undefined)) return undefined;
    const params = request.params as { bucket?: string; '*'?: string } | undefined;
    const bucket = params?.bucket;
    const key = params?.['*'];
    if (!bucket || !key) return undefined;
    const query = new URL(request.url, 'http://local').searchParams;
    if ([...query.keys()].some((k) => !SIGNING_PARAMETER.test(k))) return undefined;
    const obj = o.head(bucket, key);
    if (!obj || obj.body.length > 0 || obj.contentLength < o.minBytes) return undefined;
    const file = o.file(bucket, key);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return undefined;
    }
    if (size !== obj.contentLength) return undefined;
    const r = byteRange(range, size);
    if (!r) return undefined;
    reply.header('content-type', obj.contentType);
    reply.header('etag', obj.etag);
    reply.header('last-modified', obj.lastModified.toUTCString());
    for (const [name, value] of Object.entries(obj.metadata)) reply.header(`x-amz-meta-${name}`, value);
    if (obj.contentLanguage) reply.header('content-language', obj.contentLanguage);
    if (obj.contentDisposition) reply.header('content-disposition', obj.contentDisposition);
    if (obj.cacheControl) reply.header('cache-control', obj.cacheControl);
    if (obj.contentEncoding) reply.header('content-encoding', obj.contentEncoding);
    reply.header('content-length', r.end - r.start + 1);
    reply.header('content-range', `bytes ${r.start}-${r.end}/${size}`);
    reply.code(206).send(new FileRangeBody(file, r.start, r.end, reply.raw));
    // Answered here for good: Fastify would otherwise go on to fauxqs's handler (which reads the whole file) when
    // the client closes the answer early, as ffmpeg does each time it seeks.
    reply.hijack();
    return reply;
  };
}

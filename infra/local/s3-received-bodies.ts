// Request bodies the local S3 streams to disk as they arrive, hashed on the way, never held whole (a multipart part,
// a plain PutObject), and the object files they become, as fauxqs's FileS3Persistence keeps them.
import { createHash } from 'node:crypto';
import type { WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';

/** Where bodies streamed to disk are received and what their objects are recorded with (s3sqs.ts gives both). */
export interface ReceivedBodies {
  readonly store: ObjectStore;
  /** Bodies being received, each in a file of its own; cleared at a start (what a crash left half received). */
  readonly receivedDir: string;
  /** Bodies over this many bytes are a 413. */
  readonly limit: number;
  /** FileS3Persistence's file of an object's bytes. */
  readonly objectFile: (bucket: string, key: string) => string;
  /** Drops a cached body of an object being replaced. */
  readonly forgetBody: (bucket: string, key: string) => void;
}

/** Query parameters of a presigned or SDK request that sign it or name its action: they change nothing in it. */
export const SIGNING_PARAMETER = /^(x-amz-|x-id$)/i;

/** A request whose body is the bytes to store as sent: not a copy, not aws-chunked, with no checksum to check. */
export function hasPlainBody(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  return (
    !headers['x-amz-copy-source'] &&
    !String(headers['content-encoding'] ?? '').includes('aws-chunked') &&
    !Object.keys(headers).some((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm' || h === 'x-amz-trailer')
  );
}

/** S3's answer to a body over its limit. */
export const bodyTooLarge = (): Error => Object.assign(new Error('Request body is too large'), { statusCode: 413 });

/**
 * Writes `payload` into `file` (pausing the request while the file catches up) and ends it; resolves with the body's
 * MD5 and size once its bytes are written. On any failure, or a body over `limit`, `file` is destroyed and the
 * promise rejects: what was written is the caller's to drop.
 */
export function receiveToFile(payload: NodeJS.ReadableStream, file: WriteStream, limit: number): Promise<{ md5: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    let size = 0;
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      file.destroy();
      reject(err);
    };
    payload.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) return fail(bodyTooLarge());
      hash.update(chunk);
      if (!file.write(chunk)) {
        payload.pause();
        file.once('drain', () => payload.resume());
      }
    });
    payload.once('error', fail);
    file.once('error', fail);
    payload.once('end', () => {
      // the last writes may fail as the file ends (a full disk): then the body was not received
      if (!failed) file.end((err?: Error | null) => (err ? fail(err) : resolve({ md5: hash.digest('hex'), size })));
    });
  });
}

/** What FileS3Persistence keeps of an object beside its bytes, and fauxqs's store in memory (with an empty body). */
export interface StoredObject {
  readonly key: string;
  readonly contentType: string;
  readonly contentLength: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly metadata: Record<string, string>;
  readonly parts?: readonly { partNumber: number; offset: number; length: number }[];
  readonly contentLanguage?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
  readonly contentEncoding?: string;
}

/** The parts of fauxqs's S3 store an object written here goes into. */
export interface ObjectStore {
  readonly buckets: Map<string, Map<string, object>>;
  readonly spy?: { addMessage(m: object): void };
}

/**
 * Records an object whose bytes are already in `dataFile`: its meta file (by which FileS3Persistence loads it) and
 * its entry in the store. `forgetBody` drops a cached body of the object it replaces.
 */
export async function recordObject(
  o: { store: ObjectStore; forgetBody: (bucket: string, key: string) => void },
  bucket: string,
  dataFile: string,
  obj: StoredObject,
): Promise<void> {
  await writeFile(dataFile.replace(/\.data$/, '.meta.json'), JSON.stringify({ ...obj, lastModified: obj.lastModified.toISOString() }));
  o.forgetBody(bucket, obj.key);
  o.store.buckets.get(bucket)?.set(obj.key, { ...obj, body: Buffer.alloc(0) });
}

/** What fauxqs reports of an object written: the notifications follow from it. */
export function reportUploaded(store: ObjectStore, bucket: string, key: string): void {
  store.spy?.addMessage({ service: 's3', bucket, key, status: 'uploaded', timestamp: Date.now() });
}

// PutObject in the local S3 with the body streamed to disk. fauxqs collects a PUT's body into one Buffer, hashes it
// and writes it in one blocking call, then keeps it in the body cache: the ten frame packs an ingest's segments put
// at about the same moment (tens of MB each) then waited on one another in the event loop, and their copies drove
// the V8 heap through full collections. Here the body goes to a file as it arrives, hashed on the way, and the file
// is renamed into the object's place. A PUT with anything else to decode or check (a copy, aws-chunked bodies,
// checksums, Content-MD5) is left to fauxqs, as is a PUT to a bucket that does not exist.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hasPlainBody, receiveToFile, recordObject, reportUploaded, SIGNING_PARAMETER, type ReceivedBodies, type StoredObject } from './s3-received-bodies.ts';
import { s3ErrorXml, type HookReply } from './s3-xml.ts';

interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params?: unknown;
  readonly body?: unknown;
}

/** A PUT's body as the body parser left it: in a file of its own, hashed. */
interface ReceivedObject {
  readonly receivedFile: string;
  readonly md5: string;
  readonly size: number;
}

const isReceivedObject = (body: unknown): body is ReceivedObject => typeof body === 'object' && body !== null && 'receivedFile' in body && !('partNumber' in body);

const objectOf = (request: Pick<Request, 'params'>): { bucket: string; key: string } | undefined => {
  const params = request.params as { bucket?: string; '*'?: string } | undefined;
  return params?.bucket && params['*'] ? { bucket: params.bucket, key: params['*'] } : undefined;
};

const header = (request: Pick<Request, 'headers'>, name: string): string | undefined => {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/** fauxqs's reading of a PUT's user and system metadata. */
function metadataOf(request: Pick<Request, 'headers'>): Pick<StoredObject, 'metadata' | 'contentLanguage' | 'contentDisposition' | 'cacheControl' | 'contentEncoding'> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.toLowerCase().startsWith('x-amz-meta-') && value) metadata[name.toLowerCase().slice('x-amz-meta-'.length)] = Array.isArray(value) ? value[0]! : value;
  }
  const contentLanguage = header(request, 'content-language');
  const contentDisposition = header(request, 'content-disposition');
  const cacheControl = header(request, 'cache-control');
  const contentEncoding = header(request, 'content-encoding');
  return { metadata, ...(contentLanguage && { contentLanguage }), ...(contentDisposition && { contentDisposition }), ...(cacheControl && { cacheControl }), ...(contentEncoding && { contentEncoding }) };
}

export class LocalPutObject {
  private readonly taken = new WeakSet<ReceivedObject>();

  constructor(private readonly o: ReceivedBodies) {}

  /** A PutObject taken whole here: nothing in its body or headers to decode or check beside its MD5. */
  takes(request: Pick<Request, 'method' | 'url' | 'headers' | 'params'>): boolean {
    if (request.method !== 'PUT') return false;
    const target = objectOf(request);
    if (!target || !this.o.store.buckets.has(target.bucket)) return false;
    const query = new URL(request.url, 'http://local').searchParams;
    return (
      [...query.keys()].every((k) => SIGNING_PARAMETER.test(k)) && !request.headers['content-md5'] && hasPlainBody(request.headers)
    );
  }

  /** The body parser for the PUTs this takes: the body goes to a file of its own. */
  readonly bodyParser = (_request: unknown, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void): void => {
    const receivedFile = join(this.o.receivedDir, randomUUID());
    receiveToFile(payload, createWriteStream(receivedFile), this.o.limit).then(
      ({ md5, size }) => done(null, { receivedFile, md5, size } satisfies ReceivedObject),
      (err: Error) => void rm(receivedFile, { force: true }).finally(() => done(err)),
    );
  };

  /** Lets go of a received body no hook took (the request was refused), before the answer leaves. A Fastify onSend hook. */
  readonly dropUntaken = async <T>(request: { body?: unknown }, _reply: unknown, payload: T): Promise<T> => {
    if (isReceivedObject(request.body) && !this.taken.has(request.body)) await rm(request.body.receivedFile, { force: true });
    return payload;
  };

  /** A Fastify preHandler hook (after the signature, access and storage-class hooks) answering the PUTs this takes. */
  readonly preHandler = async (request: Request, reply: HookReply): Promise<HookReply | undefined> => {
    if (request.method !== 'PUT' || !isReceivedObject(request.body)) return undefined;
    const received = request.body;
    const target = objectOf(request)!;
    // The bucket was there when the body came, and is no longer.
    if (!this.o.store.buckets.has(target.bucket)) {
      return reply.code(404).header('content-type', 'application/xml').send(s3ErrorXml('NoSuchBucket', `The specified bucket does not exist: ${target.bucket}`));
    }
    const dataFile = this.o.objectFile(target.bucket, target.key);
    await mkdir(dirname(dataFile), { recursive: true });
    await rename(received.receivedFile, dataFile);
    this.taken.add(received);
    const etag = `"${received.md5}"`;
    await recordObject(this.o, target.bucket, dataFile, {
      key: target.key,
      contentType: header(request, 'content-type') ?? 'application/octet-stream',
      contentLength: received.size,
      etag,
      lastModified: new Date(),
      ...metadataOf(request),
    });
    reportUploaded(this.o.store, target.bucket, target.key);
    return reply.code(200).header('etag', etag).send('');
  };
}

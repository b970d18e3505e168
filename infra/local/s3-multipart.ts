// Multipart uploads' parts and their completion, kept on disk rather than in memory. fauxqs keeps every part's
// body in memory until the upload completes, then hashes every part again, concatenates them all into one Buffer
// and writes it in one blocking call: for a 482 MB video, 2.2 s with the event loop blocked and the object in
// memory twice (a 3-hour game would not fit). Here a part's body is streamed from the request to disk as it
// comes, hashed on the way, and never held whole. The first part to arrive sets the upload's part size (an
// uploader sends parts at once, so that is not always part 1), and parts no larger than that (every part of a
// planned upload) are written straight to their place in the upload's assembly file, so that a completion of parts
// 1..n all in place, all of that size but the last, is a rename: the object is written once, not twice (writing a
// game's 482 MB again took 1.5 s here, and did so whenever part 2 came before part 1). Any other part has a file
// of its own, and a completion that needs one is copied into a new file. The multipart ETag comes from the parts'
// own ETags (an ETag is the part's MD5). A place is written only by the one request of its number in flight while
// none is stored, so what it writes is either recorded whole (the request was let through and its body arrived) or
// never read: a part refused, cut off or sent again cannot change the bytes of one stored. Parts are kept as fauxqs
// keeps them (`_multipart/{uploadId}/parts/{n}.meta.json`, with `{n}.data` or a place in `assembly`), loaded
// at a start by `loadUploads`, and the object as fauxqs keeps a persisted one. Requests this does not cover (copies of
// parts, aws-chunked bodies, checksums) are left to fauxqs.
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bodyTooLarge, hasPlainBody, receiveToFile, recordObject, reportUploaded, type ObjectStore, type ReceivedBodies } from './s3-received-bodies.ts';
import { s3ErrorXml, xmlText, type HookReply } from './s3-xml.ts';

/** A part as fauxqs's store holds it; `body` is empty for a part kept on disk only (its size is then `size`). */
export interface StoredPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly body: Buffer;
  readonly size?: number;
  /** Where the part's bytes are in its upload's assembly file (undefined: in a file of its own). */
  readonly assemblyOffset?: number;
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
interface Store extends ObjectStore {
  readonly multipartUploads: Map<string, StoredUpload>;
  readonly multipartUploadsByBucket: Map<string, Set<string>>;
}

interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** A part's body as the body parser left it: hashed, in its place in the assembly or in a file of its own. */
interface ReceivedPart {
  readonly uploadId: string;
  readonly partNumber: number;
  readonly md5: string;
  readonly size: number;
  readonly receivedFile?: string;
  readonly assemblyOffset?: number;
}

const isReceivedPart = (body: unknown): body is ReceivedPart => typeof body === 'object' && body !== null && 'md5' in body && 'partNumber' in body;

/** S3 refuses a completion whose parts, the last excepted, are smaller. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;

export const partSize = (p: StoredPart): number => p.size ?? p.body.length;

/** An UploadPart taken whole here: its body is bytes of the part, nothing to decode or check beside its MD5. */
export function isPlainPart(request: Pick<Request, 'method' | 'url' | 'headers'>): boolean {
  if (request.method !== 'PUT') return false;
  const query = new URL(request.url, 'http://local').searchParams;
  const partNumber = Number(query.get('partNumber'));
  return (
    query.has('uploadId') && Number.isInteger(partNumber) && partNumber >= 1 && partNumber <= MAX_PART_NUMBER && hasPlainBody(request.headers)
  );
}

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

/** Parts 1..n, each in its place in the assembly file of parts of `partSize`: the object is the file's first bytes. */
export function isAssembled(parts: readonly StoredPart[], partSize: number | undefined): boolean {
  if (partSize === undefined) return false;
  return parts.every(
    (p, i) => p.partNumber === i + 1 && p.assemblyOffset === i * partSize && (i === parts.length - 1 ? (p.size ?? 0) <= partSize : p.size === partSize),
  );
}

/** What an open upload's assembly holds: the part size (of the first part to arrive: every part's place), and the parts being written in it. */
interface Assembly {
  partSize?: number;
  readonly writing: Set<number>;
}

/** The local S3's multipart parts and completions, as described above. `multipartDir` is FileS3Persistence's. */
export class LocalMultipart {
  private readonly assemblies = new Map<string, Assembly>();

  constructor(private readonly o: ReceivedBodies & { store: Store; multipartDir: string }) {}

  private partFile = (uploadId: string, partNumber: number, ext: string) => join(this.o.multipartDir, uploadId, 'parts', `${partNumber}.${ext}`);
  private assemblyFile = (uploadId: string) => join(this.o.multipartDir, uploadId, 'assembly');
  private assemblyOf(uploadId: string): Assembly {
    let a = this.assemblies.get(uploadId);
    if (!a) this.assemblies.set(uploadId, (a = { writing: new Set() }));
    return a;
  }

  /**
   * Where an arriving part goes: its place in the assembly when it is the first to arrive or no larger than that
   * one, its number is not stored or being written already (a part sent again must not overwrite the bytes of the one
   * stored until it is whole), and the upload is open; otherwise a file of its own.
   */
  private placeOf(uploadId: string, partNumber: number, length: number): number | undefined {
    const upload = this.o.store.multipartUploads.get(uploadId);
    if (!upload || !Number.isInteger(length) || length <= 0) return undefined;
    const a = this.assemblyOf(uploadId);
    if (a.partSize === undefined) {
      a.partSize = length;
      mkdirSync(join(this.o.multipartDir, uploadId), { recursive: true });
      writeFileSync(join(this.o.multipartDir, uploadId, 'assembly.json'), JSON.stringify({ partSize: length }));
      // Parts are written into it at their places ('r+'), never truncating what others wrote.
      closeSync(openSync(this.assemblyFile(uploadId), 'a'));
    }
    if (length > a.partSize || upload.parts.has(partNumber) || a.writing.has(partNumber)) return undefined;
    a.writing.add(partNumber);
    return (partNumber - 1) * a.partSize;
  }

  /** The S3 body parser (Fastify's, for every content type): a plain part goes to disk, anything else into a Buffer. */
  readonly bodyParser = (request: Pick<Request, 'method' | 'url' | 'headers'>, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void): void => {
    if (!isPlainPart(request)) {
      const chunks: Buffer[] = [];
      let size = 0;
      payload.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.o.limit) return payload.emit('error', bodyTooLarge());
        chunks.push(chunk);
      });
      payload.once('error', (err: Error) => done(err));
      payload.once('end', () => done(null, Buffer.concat(chunks, size)));
      return;
    }
    const query = new URL(request.url, 'http://local').searchParams;
    const uploadId = query.get('uploadId')!;
    const partNumber = Number(query.get('partNumber'));
    const assemblyOffset = this.placeOf(uploadId, partNumber, Number(request.headers['content-length']));
    const receivedFile = assemblyOffset === undefined ? join(this.o.receivedDir, randomUUID()) : undefined;
    const file =
      receivedFile !== undefined
        ? createWriteStream(receivedFile)
        : createWriteStream(this.assemblyFile(uploadId), { flags: 'r+', start: assemblyOffset });
    receiveToFile(payload, file, this.o.limit).then(
      ({ md5, size }) => done(null, { uploadId, partNumber, md5, size, receivedFile, assemblyOffset } satisfies ReceivedPart),
      (err: Error) => {
        this.assemblies.get(uploadId)?.writing.delete(partNumber);
        void (receivedFile ? rm(receivedFile, { force: true }) : Promise.resolve()).finally(() => done(err));
      },
    );
  };

  /** Lets go of a received part no hook took (the request was refused, or failed), before the answer leaves. A Fastify onSend hook. */
  readonly dropUntaken = async <T>(request: { body?: unknown }, _reply: unknown, payload: T): Promise<T> => {
    if (!isReceivedPart(request.body)) return payload;
    const received = request.body;
    if (received.receivedFile) await rm(received.receivedFile, { force: true });
    if (received.assemblyOffset !== undefined && !this.taken.has(received)) this.assemblies.get(received.uploadId)?.writing.delete(received.partNumber);
    return payload;
  };

  private readonly taken = new WeakSet<ReceivedPart>();

  private async uploadPart(request: Request, reply: HookReply, uploadId: string): Promise<HookReply | undefined> {
    if (!isReceivedPart(request.body)) return undefined;
    const received = request.body;
    const { partNumber } = received;
    const upload = this.o.store.multipartUploads.get(uploadId);
    if (!upload) return noSuchUpload(reply);
    const part: StoredPart = {
      partNumber, etag: `"${received.md5}"`, body: Buffer.alloc(0), size: received.size, lastModified: new Date(),
      ...(received.assemblyOffset !== undefined && { assemblyOffset: received.assemblyOffset }),
    };
    await mkdir(dirname(this.partFile(uploadId, partNumber, 'meta.json')), { recursive: true });
    // The data before its meta: a part is loaded by its meta file.
    if (received.receivedFile) await rename(received.receivedFile, this.partFile(uploadId, partNumber, 'data'));
    const meta = { partNumber, etag: part.etag, lastModified: part.lastModified.toISOString(), size: part.size, assemblyOffset: part.assemblyOffset };
    await writeFile(this.partFile(uploadId, partNumber, 'meta.json'), JSON.stringify(meta));
    this.taken.add(received);
    this.assemblies.get(uploadId)?.writing.delete(partNumber);
    // Aborted or completed meanwhile: the part is not the upload's (its folder is removed, or is being).
    if (this.o.store.multipartUploads.get(uploadId) !== upload) return noSuchUpload(reply);
    upload.parts.set(partNumber, part);
    return reply.code(200).header('etag', part.etag).send('');
  }

  /** The object's bytes from its parts: the assembly renamed when it holds them all in place, else copied into a new file. */
  private async writeObject(uploadId: string, parts: readonly StoredPart[], dataFile: string): Promise<void> {
    const a = this.assemblies.get(uploadId);
    // Taken after the upload left the store, so no write into the assembly can start; one under way forbids the rename.
    if (isAssembled(parts, a?.partSize) && a!.writing.size === 0) {
      const last = parts.at(-1)!;
      await truncate(this.assemblyFile(uploadId), last.assemblyOffset! + partSize(last));
      await rename(this.assemblyFile(uploadId), dataFile);
      return;
    }
    // Written aside and renamed: a reader of the object's file never sees half of it.
    const partial = `${dataFile}.${randomUUID()}.partial`;
    const out = await open(partial, 'w');
    try {
      for (const part of parts) {
        const from =
          part.body.length > 0
            ? [part.body]
            : part.assemblyOffset !== undefined
              ? createReadStream(this.assemblyFile(uploadId), { start: part.assemblyOffset, end: part.assemblyOffset + partSize(part) - 1, highWaterMark: 4 * 1024 * 1024 })
              : createReadStream(this.partFile(uploadId, part.partNumber, 'data'), { highWaterMark: 4 * 1024 * 1024 });
        for await (const chunk of from) await out.write(chunk as Buffer);
      }
      await out.close();
      await rename(partial, dataFile);
    } catch (err) {
      await out.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw err;
    }
  }

  private async complete(request: Request, reply: HookReply, uploadId: string): Promise<HookReply | undefined> {
    const upload = this.o.store.multipartUploads.get(uploadId);
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
    this.o.store.multipartUploads.delete(uploadId);
    this.o.store.multipartUploadsByBucket.get(upload.bucket)?.delete(uploadId);

    const dataFile = this.o.objectFile(upload.bucket, upload.key);
    await mkdir(dirname(dataFile), { recursive: true });
    try {
      await this.writeObject(uploadId, parts, dataFile);
    } catch (err) {
      this.o.store.multipartUploads.set(uploadId, upload);
      this.o.store.multipartUploadsByBucket.get(upload.bucket)?.add(uploadId);
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
    await recordObject(this.o, upload.bucket, dataFile, obj);
    this.assemblies.delete(uploadId);
    await rm(join(this.o.multipartDir, uploadId), { recursive: true, force: true });
    reportUploaded(this.o.store, upload.bucket, upload.key);
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

  /** A Fastify preHandler hook (after the signature, access and storage-class hooks) answering UploadPart and CompleteMultipartUpload. */
  readonly preHandler = async (request: Request, reply: HookReply): Promise<HookReply | undefined> => {
    const url = new URL(request.url, 'http://local');
    const uploadId = url.searchParams.get('uploadId');
    if (uploadId === null) return undefined;
    // An upload id is valid only for the object it was started for.
    const [, bucket = '', ...key] = url.pathname.split('/');
    const upload = this.o.store.multipartUploads.get(uploadId);
    if (upload && (upload.bucket !== decodeURIComponent(bucket) || upload.key !== decodeURIComponent(key.join('/')))) return noSuchUpload(reply);
    if (request.method === 'PUT' && url.searchParams.has('partNumber')) return this.uploadPart(request, reply, uploadId);
    if (request.method === 'POST') return this.complete(request, reply, uploadId);
    if (request.method === 'DELETE') this.assemblies.delete(uploadId);
    return undefined;
  };

  /**
   * Open uploads as they were left (FileS3Persistence.loadMultipartUploads, which this replaces, reads every part
   * into memory): parts stay on disk; those of uploads with checksums, which fauxqs completes itself, are read.
   */
  loadUploads(restore: (upload: StoredUpload) => void): void {
    if (!existsSync(this.o.multipartDir)) return;
    for (const uploadId of readdirSync(this.o.multipartDir)) {
      const uploadMeta = join(this.o.multipartDir, uploadId, '.upload.json');
      if (!existsSync(uploadMeta)) continue;
      const m = JSON.parse(readFileSync(uploadMeta, 'utf8')) as Omit<StoredUpload, 'parts'> & { initiated: string };
      const parts = new Map<number, StoredPart>();
      const partsDir = join(this.o.multipartDir, uploadId, 'parts');
      for (const file of existsSync(partsDir) ? readdirSync(partsDir) : []) {
        if (!file.endsWith('.meta.json')) continue;
        const p = JSON.parse(readFileSync(join(partsDir, file), 'utf8')) as { partNumber: number; etag: string; lastModified: string; checksumValue?: string; size?: number; assemblyOffset?: number };
        const data = this.partFile(uploadId, p.partNumber, 'data');
        const inMemory = Boolean(m.checksumAlgorithm);
        parts.set(p.partNumber, {
          partNumber: p.partNumber, etag: p.etag, lastModified: new Date(p.lastModified),
          body: inMemory ? readFileSync(data) : Buffer.alloc(0),
          ...(!inMemory && { size: p.size ?? statSync(data).size }),
          ...(p.assemblyOffset !== undefined && { assemblyOffset: p.assemblyOffset }),
          ...(p.checksumValue && { checksumValue: p.checksumValue }),
        });
      }
      const assembly = join(this.o.multipartDir, uploadId, 'assembly.json');
      if (existsSync(assembly)) this.assemblies.set(uploadId, { partSize: (JSON.parse(readFileSync(assembly, 'utf8')) as { partSize: number }).partSize, writing: new Set() });
      restore({ ...m, parts, initiated: new Date(m.initiated) } as unknown as StoredUpload);
    }
  }
}

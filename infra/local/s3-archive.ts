// Storage classes, which fauxqs lacks, as S3 has them: a write's `x-amz-storage-class` is recorded, HEAD and GET
// answer it (STANDARD is not said), ListObjectsV2 lists it. An object in GLACIER or DEEP_ARCHIVE is not read (GET,
// CopyObject: 403 InvalidObjectState) until a restore (POST ?restore) has made a readable copy: HEAD says
// `x-amz-restore: ongoing-request="true"`, and after the restore's delay `ongoing-request="false", expiry-date=…`,
// when S3's ObjectRestore:Completed notification is raised (through the outbox, s3sqs.ts). The lifecycle's
// transitions are applied when asked, as of a given time (nothing waits a day here).
//
// The classes and restores live beside the objects in one JSON file, replaced whole (written, synced, renamed) at
// each change. A restore's completion is made durable in the outbox before the file says it completed: a crash in
// between completes it again at the next start, and its notification is delivered twice, never lost.
import { existsSync, fsyncSync, openSync, closeSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { writePrivateFileSync } from './files.ts';
import { s3ErrorXml, xmlText } from './s3-xml.ts';

/** The classes S3 takes on a write. */
const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR'] as const;
/** Classes whose objects are read only through a restored copy. */
const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);
/** A lifecycle transition goes only towards a colder class. */
const COLDNESS: Record<string, number> = { STANDARD: 0, REDUCED_REDUNDANCY: 0, STANDARD_IA: 1, ONEZONE_IA: 1, INTELLIGENT_TIERING: 1, GLACIER_IR: 2, GLACIER: 3, DEEP_ARCHIVE: 4 };
const DAY_MS = 86_400_000;
/** A restore's delay here unless told otherwise: long enough to be seen ongoing, short enough for a demo. */
export const DEFAULT_RESTORE_DELAY_MS = 2_000;

export interface Restore {
  readonly days: number;
  readonly tier: string;
  readonly requestedAt: number;
  readonly completesAt: number;
  /** Set once the restored copy is readable; it is no longer after this time. */
  readonly expiresAt?: number;
}

interface Entry {
  readonly storageClass: string;
  readonly restore?: Restore;
}

export interface ArchivalRule {
  /** The bucket's physical name. */
  readonly bucket: string;
  readonly prefix: string;
  readonly days: number;
  readonly storageClass: string;
}

/** What the archive needs of the objects fauxqs holds. */
export interface StoredObjects {
  /** Every object of a bucket (key and last write). */
  list(bucket: string): Iterable<{ key: string; lastModified: Date }>;
}

const id = (bucket: string, key: string): string => `${bucket}/${key}`;

/** The `x-amz-restore` header of an object, undefined when no restore was asked or its copy expired. */
export function restoreHeader(r: Restore | undefined, now: number): string | undefined {
  if (!r) return undefined;
  if (r.expiresAt === undefined) return 'ongoing-request="true"';
  if (r.expiresAt <= now) return undefined;
  return `ongoing-request="false", expiry-date="${new Date(r.expiresAt).toUTCString()}"`;
}

export class ObjectArchive {
  private readonly entries = new Map<string, Entry>();
  /** Storage classes of multipart uploads in progress, by upload id. */
  private readonly uploads = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private started = false;

  constructor(
    private readonly o: {
      file: string;
      objects: StoredObjects;
      restoreDelayMs: number;
      /** Raises the ObjectRestore:Completed notification; resolves once it is durable. */
      restored: (bucket: string, key: string, r: Restore & { expiresAt: number }, storageClass: string) => Promise<void>;
      log: (line: object) => void;
    },
  ) {
    if (!existsSync(o.file)) return;
    const saved = JSON.parse(readFileSync(o.file, 'utf8')) as { objects: [string, Entry][]; uploads: [string, string][] };
    for (const [k, v] of saved.objects) this.entries.set(k, v);
    for (const [k, v] of saved.uploads) this.uploads.set(k, v);
  }

  storageClass(bucket: string, key: string): string {
    return this.entries.get(id(bucket, key))?.storageClass ?? 'STANDARD';
  }

  restoreOf(bucket: string, key: string): Restore | undefined {
    return this.entries.get(id(bucket, key))?.restore;
  }

  /** Whether a GET may read the object: its class is not archived, or a restored copy of it is readable. */
  readable(bucket: string, key: string, now = Date.now()): boolean {
    const e = this.entries.get(id(bucket, key));
    if (!e || !ARCHIVED.has(e.storageClass)) return true;
    return e.restore?.expiresAt !== undefined && e.restore.expiresAt > now;
  }

  hasAnyIn(bucket: string): boolean {
    for (const k of this.entries.keys()) if (k.startsWith(`${bucket}/`)) return true;
    return false;
  }

  /** An object written (or copied) with a class; STANDARD is kept as no entry at all. */
  written(bucket: string, key: string, storageClass: string | undefined): void {
    const k = id(bucket, key);
    const had = this.entries.delete(k);
    if (storageClass && storageClass !== 'STANDARD') this.entries.set(k, { storageClass });
    if (had || this.entries.has(k)) this.save();
  }

  /** An object removed or replaced: whatever was recorded of it goes with it. */
  forget(bucket: string, key: string): void {
    if (this.entries.delete(id(bucket, key))) this.save();
  }

  uploadStarted(uploadId: string, storageClass: string): void {
    this.uploads.set(uploadId, storageClass);
    this.save();
  }

  /** The class a multipart upload was created with (undefined: STANDARD), and the upload forgotten. */
  uploadEnded(uploadId: string): string | undefined {
    const c = this.uploads.get(uploadId);
    if (this.uploads.delete(uploadId)) this.save();
    return c;
  }

  /**
   * RestoreObject: 202 when a restore starts, 409 while one is ongoing, 200 when a restored copy is readable (its
   * expiry moves to `days` from now, as S3 does); an object of a class that is not archived cannot be restored.
   */
  restore(bucket: string, key: string, days: number, tier: string, now = Date.now()): { status: 200 | 202 } | { status: 403 | 409; code: string; message: string } {
    const k = id(bucket, key);
    const e = this.entries.get(k);
    if (!e || !ARCHIVED.has(e.storageClass)) {
      return { status: 403, code: 'InvalidObjectState', message: "Restore is not allowed for the object's current storage class" };
    }
    const r = e.restore;
    if (r && r.expiresAt === undefined) return { status: 409, code: 'RestoreAlreadyInProgress', message: 'Object restore is already in progress' };
    if (r?.expiresAt !== undefined && r.expiresAt > now) {
      this.entries.set(k, { ...e, restore: { ...r, days, expiresAt: now + days * DAY_MS } });
      this.save();
      return { status: 200 };
    }
    const restore: Restore = { days, tier, requestedAt: now, completesAt: now + this.o.restoreDelayMs };
    this.entries.set(k, { ...e, restore });
    this.save();
    if (this.started) this.schedule(bucket, key, restore);
    return { status: 202 };
  }

  /** Moves the objects each rule covers that are older than its days, as of `at`, to its class; returns how many moved. */
  applyLifecycle(rules: readonly ArchivalRule[], at: Date): number {
    let moved = 0;
    for (const rule of rules) {
      for (const o of this.o.objects.list(rule.bucket)) {
        if (!o.key.startsWith(rule.prefix) || o.lastModified.getTime() + rule.days * DAY_MS > at.getTime()) continue;
        const current = this.storageClass(rule.bucket, o.key);
        if ((COLDNESS[current] ?? 0) >= (COLDNESS[rule.storageClass] ?? 0)) continue;
        this.entries.set(id(rule.bucket, o.key), { storageClass: rule.storageClass });
        moved++;
      }
    }
    if (moved > 0) this.save();
    return moved;
  }

  /** Completes the restores asked for (those of before the last stop first); before this, none completes. */
  start(): void {
    this.started = true;
    for (const [k, e] of this.entries) {
      if (!e.restore || e.restore.expiresAt !== undefined) continue;
      const slash = k.indexOf('/');
      this.schedule(k.slice(0, slash), k.slice(slash + 1), e.restore);
    }
  }

  stop(): void {
    this.started = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(bucket: string, key: string, r: Restore): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.complete(bucket, key, r).catch((err: Error) => {
        this.o.log({ level: 'ERROR', message: 'restore not completed yet, retrying', bucket, key, error: err.message });
        if (this.started) this.schedule(bucket, key, { ...r, completesAt: Date.now() + 1_000 });
      });
    }, Math.max(0, r.completesAt - Date.now()));
    this.timers.add(timer);
  }

  private async complete(bucket: string, key: string, r: Restore): Promise<void> {
    const k = id(bucket, key);
    const e = this.entries.get(k);
    // the object was replaced or removed meanwhile, or this restore is not the one recorded: nothing to complete
    if (!e?.restore || e.restore.requestedAt !== r.requestedAt || e.restore.expiresAt !== undefined) return;
    const done = { ...e.restore, expiresAt: Date.now() + e.restore.days * DAY_MS };
    await this.o.restored(bucket, key, done, e.storageClass);
    if (this.entries.get(k)?.restore?.requestedAt !== r.requestedAt) return;
    this.entries.set(k, { ...e, restore: done });
    this.save();
  }

  private save(): void {
    const tmp = `${this.o.file}.tmp`;
    writePrivateFileSync(tmp, JSON.stringify({ objects: [...this.entries], uploads: [...this.uploads] }));
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.o.file);
    const dir = openSync(dirname(this.o.file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}

interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}

interface Reply {
  readonly statusCode: number;
  code(status: number): Reply;
  header(name: string, value: string): Reply;
  send(body?: string): Reply;
}

/** Bucket, key (empty for the bucket itself) and query of a path-style request. */
function target(url: string): { bucket: string; key: string; q: URLSearchParams } {
  const { pathname, searchParams } = new URL(url, 'http://local');
  const [bucket = '', ...rest] = pathname.slice(1).split('/');
  return { bucket: decodeURIComponent(bucket), key: rest.map((s) => decodeURIComponent(s)).join('/'), q: searchParams };
}

const header = (r: Request, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const invalidObjectState = (reply: Reply, storageClass: string): Reply =>
  reply
    .code(403)
    .header('content-type', 'application/xml')
    .send(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidObjectState</Code>' +
        `<Message>The operation is not valid for the object's storage class</Message><StorageClass>${xmlText(storageClass)}</StorageClass></Error>`,
    );

/** The restore request's days and tier (S3's RestoreRequest XML); undefined when it is not one this S3 serves. */
function restoreRequest(body: unknown): { days: number; tier: string } | undefined {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  const days = Number(/<Days>\s*(\d+)\s*<\/Days>/.exec(text)?.[1]);
  if (!Number.isInteger(days) || days < 1) return undefined;
  const tier = /<Tier>\s*(\w+)\s*<\/Tier>/.exec(text)?.[1] ?? 'Standard';
  return ['Standard', 'Bulk', 'Expedited'].includes(tier) ? { days, tier } : undefined;
}

/** What a request writes with a class, until its answer says it was written. */
const pending = new WeakMap<object, { bucket: string; key: string; storageClass?: string; uploadId?: string; creates?: boolean }>();

/**
 * Fastify hooks serving storage classes and restores (after the signature and access checks, before the range reads);
 * `exists` says whether fauxqs holds the object.
 */
export function archiveHooks(archive: ObjectArchive, exists: (bucket: string, key: string) => boolean) {
  return {
    preHandler: async (request: Request, reply: Reply): Promise<Reply | undefined> => {
      const { bucket, key, q } = target(request.url);
      if (!key) return undefined;
      const method = request.method;
      if (method === 'POST' && q.has('restore')) {
        if (!exists(bucket, key)) return reply.code(404).header('content-type', 'application/xml').send(s3ErrorXml('NoSuchKey', 'The specified key does not exist.'));
        const asked = restoreRequest(request.body);
        if (!asked) return reply.code(400).header('content-type', 'application/xml').send(s3ErrorXml('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.'));
        const out = archive.restore(bucket, key, asked.days, asked.tier);
        if (!('code' in out)) return reply.code(out.status).send('');
        return reply.code(out.status).header('content-type', 'application/xml').send(s3ErrorXml(out.code, out.message));
      }
      if ((method === 'GET' || method === 'HEAD') && !q.has('uploadId') && exists(bucket, key)) {
        const storageClass = archive.storageClass(bucket, key);
        if (storageClass !== 'STANDARD') reply.header('x-amz-storage-class', storageClass);
        const restore = restoreHeader(archive.restoreOf(bucket, key), Date.now());
        if (restore && ARCHIVED.has(storageClass)) reply.header('x-amz-restore', restore);
        if (method === 'GET' && !archive.readable(bucket, key)) return invalidObjectState(reply, storageClass);
        return undefined;
      }
      const storageClass = header(request, 'x-amz-storage-class');
      if (storageClass !== undefined && !(STORAGE_CLASSES as readonly string[]).includes(storageClass)) {
        return reply.code(400).header('content-type', 'application/xml').send(s3ErrorXml('InvalidStorageClass', 'The storage class you specified is not valid'));
      }
      if (method === 'PUT' && !q.has('partNumber')) {
        const source = header(request, 'x-amz-copy-source');
        if (source) {
          const from = target(`/${decodeURIComponent(source.replace(/^\//, '').split('?')[0]!)}`);
          if (exists(from.bucket, from.key) && !archive.readable(from.bucket, from.key)) return invalidObjectState(reply, archive.storageClass(from.bucket, from.key));
        }
        pending.set(request, { bucket, key, storageClass });
      }
      if (method === 'POST' && q.has('uploads')) pending.set(request, { bucket, key, storageClass, creates: true });
      if (method === 'POST' && q.has('uploadId')) pending.set(request, { bucket, key, uploadId: q.get('uploadId')! });
      if (method === 'DELETE' && q.has('uploadId')) pending.set(request, { bucket, key, uploadId: q.get('uploadId')! });
      return undefined;
    },

    /**
     * A write's class is recorded once it is answered as done (fauxqs's store has the object by then), a multipart
     * upload's when its creation's answer gives its id; listings get the classes.
     */
    onSend: async (request: Request, reply: Reply, payload: unknown): Promise<unknown> => {
      const p = pending.get(request);
      if (p) {
        pending.delete(request);
        const ok = reply.statusCode >= 200 && reply.statusCode < 300;
        if (ok && p.creates) {
          const uploadId = typeof payload === 'string' ? /<UploadId>([^<]+)<\/UploadId>/.exec(payload)?.[1] : undefined;
          if (uploadId && p.storageClass && p.storageClass !== 'STANDARD') archive.uploadStarted(uploadId, p.storageClass);
        } else if (ok && request.method === 'DELETE') archive.uploadEnded(p.uploadId!);
        else if (ok && !(typeof payload === 'string' && payload.includes('<Error>'))) {
          archive.written(p.bucket, p.key, p.uploadId ? archive.uploadEnded(p.uploadId) : p.storageClass);
        }
      }
      if (request.method !== 'GET' || typeof payload !== 'string' || !payload.includes('<ListBucketResult')) return payload;
      const { bucket, key } = target(request.url);
      if (key || !archive.hasAnyIn(bucket)) return payload;
      const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      return payload.replace(/<Contents>([\s\S]*?)<\/Contents>/g, (block: string, inner: string) => {
        const listed = /<Key>([\s\S]*?)<\/Key>/.exec(inner)?.[1];
        if (listed === undefined) return block;
        const storageClass = archive.storageClass(bucket, unescape(listed));
        return storageClass === 'STANDARD' ? block : block.replace(/<StorageClass>[^<]*<\/StorageClass>/, `<StorageClass>${storageClass}</StorageClass>`);
      });
    },
  };
}

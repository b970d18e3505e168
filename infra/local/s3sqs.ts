// S3 and SQS from fauxqs, listening on loopback only and persisting under `.local/`.
// fauxqs's startFauxqs() persists but always binds 0.0.0.0, and buildApp() binds where we say but keeps
// nothing. So we do what startFauxqs does (same stores, same persistence classes) and listen on 127.0.0.1.
// Those classes are not in the package's export map, so they are loaded by file path; fauxqs is pinned.
//
// S3 notifications are delivered at least once, also across a crash, as S3 delivers them: when an object is
// written (PutObject, CompleteMultipartUpload, CopyObject), each notification it raises is written to an
// outbox file (`outbox/`, fsynced) before the request is answered; it is sent to its queue after that and its
// file removed once SendMessage succeeded; whatever is left in the outbox is sent again at the next start.
// The cost is two fsyncs per notifying write (the file and its folder), concurrent writes sharing none. A restore of
// an archived object raises its notification the same way when it completes (s3-archive.ts).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { buildApp } from 'fauxqs';
import { SizedLru } from '../../functions/lib/sized-lru.ts';
import { makePrivateDir, syncPath } from './files.ts';
import type { AccessPolicy } from './access.ts';
import { s3SqsAccessChecks } from './access-s3sqs.ts';
import { s3CorsHooks, type BucketCors } from './s3-cors.ts';
import { listPartsHook } from './s3-list-parts.ts';
import { LocalMultipart } from './s3-multipart.ts';
import { LocalPutObject } from './s3-put-object.ts';
import type { ReceivedBodies } from './s3-received-bodies.ts';
import { objectFile, rangeReadHook, type StoredObjectMeta } from './s3-range-reads.ts';
import { archiveHooks, DEFAULT_RESTORE_DELAY_MS, ObjectArchive, type ArchivalRule } from './s3-archive.ts';
import { LOCAL_ACCESS_KEYS, presignedRequestCheck } from './s3-presign-check.ts';
import { s3SqsMeter, type UsageMeter } from './usage.ts';

export interface S3ObjectEvent {
  readonly bucket: string;
  readonly key: string;
  readonly kind: 'created' | 'removed' | 'restored';
  readonly size: number;
  readonly etag: string;
  readonly multipart: boolean;
  /** Of a restore completed: until when its copy is readable, and the object's (archived) class. */
  readonly restore?: { readonly expiresAt: Date; readonly storageClass: string };
}

/** One S3 notification for one queue; `queuePath` is the queue URL's path (the port changes across starts). */
export interface S3NotificationMessage {
  readonly queuePath: string;
  readonly body: string;
}

export interface LocalS3Sqs {
  readonly endpoint: string;
  readonly port: number;
  /** Starts sending notifications (those left from before first) through `send`, retrying each until it succeeds. */
  startNotifications(send: (message: S3NotificationMessage) => Promise<void>): void;
  createBucket(name: string): void;
  /** Creates the queue (idempotent) and returns its URL and ARN. */
  createQueue(name: string, attributes: Record<string, string>): { url: string; arn: string };
  /** Bytes of the objects in each bucket now. */
  storedBytes(): Record<string, number>;
  /** Applies the lifecycle's transitions as S3 would have by `at`; returns how many objects moved to a colder class. */
  applyLifecycle(at: Date): number;
  stop(): Promise<void>;
}

// The export map hides both the internals and package.json, so find the package folder the way Node searches.
/** The largest object S3 takes in one PUT. */
const S3_MAX_PUT_BYTES = 5 * 1024 ** 3;

const fauxqsDist = join(
  createRequire(import.meta.url)
    .resolve.paths('fauxqs')!
    .map((dir) => join(dir, 'fauxqs'))
    .find((dir) => existsSync(join(dir, 'package.json')))!,
  'dist',
);
const internal = async <T>(file: string): Promise<T> => (await import(pathToFileURL(join(fauxqsDist, file)).href)) as T;

/** Recently read object bodies kept in memory (see startS3Sqs). */
const BODY_CACHE_BYTES = 512 * 1024 * 1024;

type AnyClass = new (...args: unknown[]) => Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function startS3Sqs(opts: {
  dataDir: string;
  port: number;
  region: string;
  /** The notifications an object event raises (none for most). */
  notificationsFor: (event: S3ObjectEvent) => readonly S3NotificationMessage[];
  log?: (line: object) => void;
  /** Functions' credentials and what they may do (access.ts); without it every request is allowed. */
  policy?: AccessPolicy;
  /** A bucket's CORS rule (by its physical name), or undefined for none. */
  cors?: (bucket: string) => BucketCors | undefined;
  /** Counts every request answered (usage.ts). */
  usage?: UsageMeter;
  /** Bytes of recently read bodies kept in memory; BODY_CACHE_BYTES by default (tests use less). */
  bodyCacheBytes?: number;
  /** The lifecycle's transitions to colder storage classes (applyLifecycle applies them). */
  archivals?: readonly ArchivalRule[];
  /** How long a restore of an archived object takes here (hours in AWS); DEFAULT_RESTORE_DELAY_MS by default. */
  restoreDelayMs?: number;
}): Promise<LocalS3Sqs> {
  const { SqsStore } = await internal<{ SqsStore: AnyClass }>('sqs/sqsStore.js');
  const { SnsStore } = await internal<{ SnsStore: AnyClass }>('sns/snsStore.js');
  const { S3Store } = await internal<{ S3Store: AnyClass }>('s3/s3Store.js');
  const { PersistenceManager } = await internal<{ PersistenceManager: AnyClass }>('persistence.js');
  const { FileS3Persistence } = await internal<{ FileS3Persistence: AnyClass }>('s3/fileS3Persistence.js');
  const { sqsQueueArn } = await internal<{ sqsQueueArn: (name: string, region: string) => string }>('common/arnHelper.js');

  makePrivateDir(opts.dataDir);
  const outbox = new Outbox(join(opts.dataDir, 'outbox'), opts.log ?? (() => undefined));
  const sqsStore = new SqsStore();
  const snsStore = new SnsStore();
  const s3Store = new S3Store();
  sqsStore.region = opts.region;
  snsStore.region = opts.region;
  const queuesAndTopics = new PersistenceManager(join(opts.dataDir, 'sqs'));
  const objects = new FileS3Persistence(join(opts.dataDir, 's3'));
  // Multipart parts (s3-multipart.ts, loaded as they were left) and plain PUTs (s3-put-object.ts) streamed to disk.
  const received: ReceivedBodies = {
    store: s3Store as never,
    receivedDir: join(opts.dataDir, 's3', '_received'),
    limit: S3_MAX_PUT_BYTES,
    objectFile: (bucket, key) => objectFile(objects.bucketsDir as string, bucket, key),
    forgetBody: (bucket, key) => bodies.delete(`${bucket}/${key}`),
  };
  // What a crash left half received is nobody's.
  rmSync(received.receivedDir, { recursive: true, force: true });
  mkdirSync(received.receivedDir, { recursive: true });
  const multipart = new LocalMultipart({ ...received, store: s3Store as never, multipartDir: objects.multipartDir as string });
  const puts = new LocalPutObject(received);
  objects.loadMultipartUploads = (store: { restoreMultipartUpload: (upload: unknown) => void }) => multipart.loadUploads((u) => store.restoreMultipartUpload(u));
  // Load first, then attach persistence, as startFauxqs does (attaching first would rewrite what is loaded).
  queuesAndTopics.loadSqsAndSns(sqsStore, snsStore);
  objects.loadS3(s3Store);
  sqsStore.persistence = queuesAndTopics;
  snsStore.persistence = queuesAndTopics;
  for (const queue of sqsStore.allQueues()) queue.persistence = queuesAndTopics;
  s3Store.persistence = objects;

  // fauxqs reads a persisted object's whole file for every GET, range requests included, so a bulk load's
  // hundreds of range reads of the same few files each read a whole file (and block the event loop while they
  // do). Bodies read recently are kept, bounded by size, and so are those fauxqs writes itself (a PUT with a
  // checksum, a copy): such an object is served from the bytes it was written with. A plain PUT is written by
  // streaming (s3-put-object.ts) and its body is read once, at its first GET. A body is forgotten when its object is
  // removed or renamed, and replaced when it is written again.
  const bodyCacheBytes = opts.bodyCacheBytes ?? BODY_CACHE_BYTES;
  const bodies = new SizedLru<Buffer>(() => bodyCacheBytes);
  const readBody = (objects.readBody as (bucket: string, key: string) => Buffer).bind(objects);
  objects.readBody = (bucket: string, key: string): Buffer => {
    const id = `${bucket}/${key}`;
    let body = bodies.get(id);
    if (!body) bodies.set(id, (body = readBody(bucket, key)), body.length);
    return body;
  };
  // Multipart completion writes through upsertObject too.
  const upsertObject = (objects.upsertObject as (bucket: string, obj: { key: string; body: Buffer }) => void).bind(objects);
  objects.upsertObject = (bucket: string, obj: { key: string; body: Buffer }): void => {
    const id = `${bucket}/${obj.key}`;
    bodies.delete(id);
    upsertObject(bucket, obj);
    bodies.set(id, obj.body, obj.body.length);
  };
  const deleteObjectsByBucket = (objects.deleteObjectsByBucket as (bucket: string) => void).bind(objects);
  objects.deleteObjectsByBucket = (bucket: string): void => {
    bodies.clear();
    deleteObjectsByBucket(bucket);
  };

  const stored = (bucket: string): Map<string, StoredObjectMeta> | undefined => (s3Store.buckets as Map<string, Map<string, StoredObjectMeta>>).get(bucket);
  const archive = new ObjectArchive({
    file: join(opts.dataDir, 'storage-classes.json'),
    restoreDelayMs: opts.restoreDelayMs ?? DEFAULT_RESTORE_DELAY_MS,
    log: opts.log ?? (() => undefined),
    objects: {
      list: (bucket) => [...(stored(bucket)?.entries() ?? [])].map(([key, o]) => ({ key, lastModified: new Date(o.lastModified) })),
    },
    restored: async (bucket, key, r, storageClass) => {
      const head = s3Store.headObject(bucket, key) as { contentLength: number; etag: string };
      const event: S3ObjectEvent = {
        bucket, key, kind: 'restored', size: head.contentLength, etag: head.etag.replace(/"/g, ''), multipart: false,
        restore: { expiresAt: new Date(r.expiresAt), storageClass },
      };
      for (const message of opts.notificationsFor(event)) outbox.add(message);
      await outbox.durable();
    },
  });

  // S3's own event source: the store reports each object written or removed; we turn that into notifications.
  s3Store.spy = {
    addMessage(m: { service: string; bucket: string; key: string; status: string }) {
      if (m.service !== 's3') return;
      if (m.status === 'deleted' || m.status === 'renamed') bodies.delete(`${m.bucket}/${m.key}`);
      // a new object (or none) under the key: its class is the write's (set once the write is answered)
      if (m.status === 'uploaded' || m.status === 'deleted' || m.status === 'renamed') archive.forget(m.bucket, m.key);
      if (m.status !== 'uploaded' && m.status !== 'deleted') return;
      let size = 0;
      let etag = '';
      let multipart = false;
      if (m.status === 'uploaded') {
        const head = s3Store.headObject(m.bucket, m.key) as { contentLength: number; etag: string; parts?: unknown };
        size = head.contentLength;
        etag = head.etag.replace(/"/g, '');
        multipart = Boolean(head.parts);
      }
      const event: S3ObjectEvent = { bucket: m.bucket, key: m.key, kind: m.status === 'uploaded' ? 'created' : 'removed', size, etag, multipart };
      for (const message of opts.notificationsFor(event)) outbox.add(message);
    },
  };

  const app = buildApp({ logger: false, defaultRegion: opts.region, stores: { sqsStore, snsStore, s3Store } } as never);
  // fauxqs takes bodies up to 11 MiB, enough for a multipart part; S3 takes one PUT up to 5 GiB (a segment's frame
  // pack is one PUT of tens of MB). Its catch-all parser (S3's binary bodies) again, with S3's limit, and a plain
  // PUT or multipart part streamed to a file rather than collected (s3-put-object.ts, s3-multipart.ts).
  app.removeContentTypeParser('*');
  app.addContentTypeParser('*', ((request: never, payload: never, done: never) =>
    (puts.takes(request) ? puts.bodyParser : multipart.bodyParser)(request, payload, done)) as never);
  app.addHook('onSend', multipart.dropUntaken);
  app.addHook('onSend', puts.dropUntaken);
  if (opts.usage) app.addHook('onSend', s3SqsMeter(opts.usage));
  const access = opts.policy && s3SqsAccessChecks(opts.policy);
  const cors = s3CorsHooks(opts.cors ?? (() => undefined));
  app.addHook('onRequest', cors.onRequest);
  app.addHook('onSend', cors.onSend);
  if (access) app.addHook('onRequest', access.onRequest);
  app.addHook('onRequest', listPartsHook(s3Store.multipartUploads));
  app.addHook('preHandler', presignedRequestCheck(new Map([...LOCAL_ACCESS_KEYS, ...(opts.policy?.secrets() ?? [])])));
  if (access) app.addHook('preHandler', access.preHandler);
  const head = (bucket: string, key: string): StoredObjectMeta | undefined => stored(bucket)?.get(key);
  const classes = archiveHooks(archive, (bucket, key) => head(bucket, key) !== undefined);
  app.addHook('preHandler', classes.preHandler);
  app.addHook('onSend', classes.onSend);
  // After the archive's hooks: a completion's or a PUT's storage class is taken from what they saw of its request.
  app.addHook('preHandler', multipart.preHandler);
  app.addHook('preHandler', puts.preHandler);
  // Objects too large for the body cache (SizedLru keeps none above a quarter of it) are read by range from their file.
  app.addHook(
    'preHandler',
    rangeReadHook({ minBytes: Math.floor(bodyCacheBytes / 4) + 1, head, file: (bucket, key) => objectFile(objects.bucketsDir as string, bucket, key) }),
  );
  // Before any response leaves: the notifications of every write made so far are on disk.
  app.addHook('onSend', async () => {
    await outbox.durable();
  });
  app.addHook('preClose', () => {
    archive.stop();
    outbox.stop();
    queuesAndTopics.close();
    objects.close();
  });
  await app.listen({ port: opts.port, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    startNotifications: (send) => {
      outbox.start(send);
      archive.start();
    },
    createBucket(name) {
      if (!s3Store.hasBucket?.(name) && !s3Store.buckets?.has(name)) s3Store.createBucket(name);
    },
    createQueue(name, attributes) {
      const arn = sqsQueueArn(name, opts.region);
      const url = sqsStore.buildQueueUrl(name, String(port), `127.0.0.1:${port}`, opts.region);
      if (!sqsStore.getQueueByName(name)) sqsStore.createQueue(name, url, arn, attributes, {});
      return { url, arn };
    },
    storedBytes() {
      const bytes: Record<string, number> = {};
      for (const [bucket, objects] of s3Store.buckets as Map<string, Map<string, { contentLength: number }>>) {
        bytes[bucket] = 0;
        for (const o of objects.values()) bytes[bucket] += o.contentLength;
      }
      return bytes;
    },
    applyLifecycle: (at) => archive.applyLifecycle(opts.archivals ?? [], at),
    stop: () => app.close(),
  };
}

/** Retry of a notification whose SendMessage failed. */
const RESEND_MS = 1_000;

/** Notifications written to disk before their object's write is answered, removed once their queue has them. */
class Outbox {
  private writing = new Set<Promise<void>>();
  private readonly ready: { file: string; message: S3NotificationMessage }[] = [];
  private send: ((message: S3NotificationMessage) => Promise<void>) | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly log: (line: object) => void,
  ) {
    makePrivateDir(dir);
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name);
      try {
        this.ready.push({ file, message: JSON.parse(readFileSync(file, 'utf8')) as S3NotificationMessage });
      } catch {
        rmSync(file, { force: true }); // torn: written by a request that was never answered
      }
    }
  }

  add(message: S3NotificationMessage): void {
    const file = join(this.dir, `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.json`);
    const written = this.write(file, JSON.stringify(message)).then(() => this.deliver({ file, message }));
    this.writing.add(written);
    void written.finally(() => this.writing.delete(written));
  }

  /** Resolves when every notification added so far is on disk. */
  async durable(): Promise<void> {
    if (this.writing.size > 0) await Promise.all([...this.writing]);
  }

  start(send: (message: S3NotificationMessage) => Promise<void>): void {
    this.send = send;
    for (const entry of this.ready.splice(0)) this.deliver(entry);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
  }

  private async write(file: string, text: string): Promise<void> {
    const out = await open(file, 'wx');
    try {
      await out.writeFile(text);
      await out.datasync();
    } finally {
      await out.close();
    }
    await syncPath(this.dir);
  }

  private deliver(entry: { file: string; message: S3NotificationMessage }): void {
    if (this.stopped) return;
    if (!this.send) {
      this.ready.push(entry);
      return;
    }
    this.send(entry.message)
      .then(() => rm(entry.file, { force: true }))
      .catch((err: Error) => {
        if (this.stopped) return;
        this.log({ level: 'ERROR', message: 'S3 notification not delivered yet, retrying', error: err.message });
        const timer = setTimeout(() => (this.timers.delete(timer), this.deliver(entry)), RESEND_MS);
        this.timers.add(timer);
      });
  }
}

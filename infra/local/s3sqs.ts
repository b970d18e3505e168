// S3 and SQS from fauxqs, listening on loopback only and persisting under `.local/`.
// fauxqs's startFauxqs() persists but always binds 0.0.0.0, and buildApp() binds where we say but keeps
// nothing. So we do what startFauxqs does (same stores, same persistence classes) and listen on 127.0.0.1.
// Those classes are not in the package's export map, so they are loaded by file path; fauxqs is pinned.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { buildApp } from 'fauxqs';
import { SizedLru } from '../../functions/lib/sized-lru.ts';
import { makePrivateDir } from './files.ts';
import { listPartsHook } from './s3-list-parts.ts';
import { LOCAL_ACCESS_KEYS, presignedRequestCheck } from './s3-presign-check.ts';

export interface S3ObjectEvent {
  readonly bucket: string;
  readonly key: string;
  readonly kind: 'created' | 'removed';
  readonly size: number;
  readonly etag: string;
  readonly multipart: boolean;
}

export interface LocalS3Sqs {
  readonly endpoint: string;
  readonly port: number;
  createBucket(name: string): void;
  /** Creates the queue (idempotent) and returns its URL and ARN. */
  createQueue(name: string, attributes: Record<string, string>): { url: string; arn: string };
  stop(): Promise<void>;
}

// The export map hides both the internals and package.json, so find the package folder the way Node searches.
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
  onObject: (event: S3ObjectEvent) => void;
}): Promise<LocalS3Sqs> {
  const { SqsStore } = await internal<{ SqsStore: AnyClass }>('sqs/sqsStore.js');
  const { SnsStore } = await internal<{ SnsStore: AnyClass }>('sns/snsStore.js');
  const { S3Store } = await internal<{ S3Store: AnyClass }>('s3/s3Store.js');
  const { PersistenceManager } = await internal<{ PersistenceManager: AnyClass }>('persistence.js');
  const { FileS3Persistence } = await internal<{ FileS3Persistence: AnyClass }>('s3/fileS3Persistence.js');
  const { sqsQueueArn } = await internal<{ sqsQueueArn: (name: string, region: string) => string }>('common/arnHelper.js');

  makePrivateDir(opts.dataDir);
  const sqsStore = new SqsStore();
  const snsStore = new SnsStore();
  const s3Store = new S3Store();
  sqsStore.region = opts.region;
  snsStore.region = opts.region;
  const queuesAndTopics = new PersistenceManager(join(opts.dataDir, 'sqs'));
  const objects = new FileS3Persistence(join(opts.dataDir, 's3'));
  // Load first, then attach persistence, as startFauxqs does (attaching first would rewrite what is loaded).
  queuesAndTopics.loadSqsAndSns(sqsStore, snsStore);
  objects.loadS3(s3Store);
  sqsStore.persistence = queuesAndTopics;
  snsStore.persistence = queuesAndTopics;
  for (const queue of sqsStore.allQueues()) queue.persistence = queuesAndTopics;
  s3Store.persistence = objects;

  // fauxqs reads a persisted object's whole file for every GET, range requests included, so a bulk load's
  // hundreds of range reads of the same few files each read a whole file (and block the event loop while they
  // do). Bodies read recently are kept, bounded by size, and forgotten when their object is written or removed.
  const bodies = new SizedLru<Buffer>(() => BODY_CACHE_BYTES);
  const readBody = (objects.readBody as (bucket: string, key: string) => Buffer).bind(objects);
  objects.readBody = (bucket: string, key: string): Buffer => {
    const id = `${bucket}/${key}`;
    let body = bodies.get(id);
    if (!body) bodies.set(id, (body = readBody(bucket, key)), body.length);
    return body;
  };

  // S3's own event source: the store reports each object written or removed; we turn that into notifications.
  s3Store.spy = {
    addMessage(m: { service: string; bucket: string; key: string; status: string }) {
      if (m.service !== 's3') return;
      if (m.status !== 'downloaded') bodies.delete(`${m.bucket}/${m.key}`);
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
      opts.onObject({ bucket: m.bucket, key: m.key, kind: m.status === 'uploaded' ? 'created' : 'removed', size, etag, multipart });
    },
  };

  const app = buildApp({ logger: false, defaultRegion: opts.region, stores: { sqsStore, snsStore, s3Store } } as never);
  app.addHook('onRequest', listPartsHook(s3Store.multipartUploads));
  app.addHook('preHandler', presignedRequestCheck(LOCAL_ACCESS_KEYS));
  app.addHook('preClose', () => {
    queuesAndTopics.close();
    objects.close();
  });
  await app.listen({ port: opts.port, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    port,
    createBucket(name) {
      if (!s3Store.hasBucket?.(name) && !s3Store.buckets?.has(name)) s3Store.createBucket(name);
    },
    createQueue(name, attributes) {
      const arn = sqsQueueArn(name, opts.region);
      const url = sqsStore.buildQueueUrl(name, String(port), `127.0.0.1:${port}`, opts.region);
      if (!sqsStore.getQueueByName(name)) sqsStore.createQueue(name, url, arn, attributes, {});
      return { url, arn };
    },
    stop: () => app.close(),
  };
}

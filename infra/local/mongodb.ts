// MongoDB for the local cloud: a wire-protocol server (congodb) that keeps documents in memory, with the
// local cloud's own persistence. congodb's file storage rewrites a whole collection file per operation and
// loses writes that overlap (60 concurrent upserts left one document), so we use its memory storage, which is
// correct under concurrency, and snapshot it to `dataDir` ourselves: atomically (temp file, then rename), as
// Extended JSON (ObjectIds and Dates survive), a moment after each change and at stop.
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EJSON } from 'bson';
import { congodb } from '@push.rocks/smartmongo';
import { makePrivateDir, PRIVATE_FILE } from './files.ts';

export interface LocalMongo {
  readonly uri: string;
  readonly port: number;
  /** Writes a pending snapshot now (it blocks the event loop while it serializes) and resolves when it is on disk. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** The parts of congodb's MemoryStorageAdapter that a snapshot holds. */
interface MemoryStorage {
  databases: Map<string, Map<string, Map<string, Record<string, unknown>>>>;
  indexes: Map<string, Map<string, unknown>>;
  [method: string]: unknown;
}

const MUTATIONS = [
  'createDatabase', 'dropDatabase', 'createCollection', 'dropCollection', 'renameCollection',
  'insertOne', 'insertMany', 'updateById', 'deleteById', 'deleteByIds', 'saveIndex', 'dropIndex',
];

const SNAPSHOT_DELAY_MS = 500;

interface Snapshot {
  databases: Record<string, Record<string, Record<string, unknown>[]>>;
  indexes: Record<string, Record<string, unknown>>;
}

function restore(storage: MemoryStorage, file: string): void {
  if (!existsSync(file)) return;
  const snapshot = EJSON.parse(readFileSync(file, 'utf8'), { relaxed: false }) as Snapshot;
  for (const [db, collections] of Object.entries(snapshot.databases)) {
    const dbMap = new Map<string, Map<string, Record<string, unknown>>>();
    for (const [coll, docs] of Object.entries(collections)) {
      dbMap.set(coll, new Map(docs.map((d) => [String((d._id as { toHexString?: () => string }).toHexString?.() ?? d._id), d])));
    }
    storage.databases.set(db, dbMap);
  }
  for (const [db, collections] of Object.entries(snapshot.indexes)) storage.indexes.set(db, new Map(Object.entries(collections)));
}

async function persist(storage: MemoryStorage, file: string): Promise<void> {
  const snapshot: Snapshot = { databases: {}, indexes: {} };
  for (const [db, collections] of storage.databases) {
    snapshot.databases[db] = Object.fromEntries([...collections].map(([coll, docs]) => [coll, [...docs.values()]]));
  }
  for (const [db, collections] of storage.indexes) snapshot.indexes[db] = Object.fromEntries(collections);
  await writeFile(`${file}.tmp`, EJSON.stringify(snapshot, { relaxed: false }), { mode: PRIVATE_FILE });
  await rename(`${file}.tmp`, file);
}

/** Accepts only ObjectId `_id`s and enforces no unique secondary index: stores use deterministic ObjectIds. */
export async function startMongo(opts: { dataDir: string; port: number }): Promise<LocalMongo> {
  makePrivateDir(opts.dataDir);
  const file = join(opts.dataDir, 'snapshot.ejson');
  const server = new congodb.CongoServer({ port: opts.port, host: '127.0.0.1', storage: 'memory' });
  const storage = server.getStorage() as unknown as MemoryStorage;
  restore(storage, file);

  let timer: NodeJS.Timeout | undefined;
  let writing = Promise.resolve();
  const save = () => {
    clearTimeout(timer);
    timer = undefined;
    writing = writing.then(() => persist(storage, file));
  };
  for (const method of MUTATIONS) {
    const original = storage[method] as (...args: unknown[]) => Promise<unknown>;
    storage[method] = async (...args: unknown[]) => {
      const result = await original.apply(storage, args);
      timer ??= setTimeout(save, SNAPSHOT_DELAY_MS);
      return result;
    };
  }

  await server.start();
  return {
    uri: `mongodb://127.0.0.1:${opts.port}/?directConnection=true`,
    port: opts.port,
    async flush() {
      if (timer) save();
      await writing;
    },
    async stop() {
      await server.stop();
      save();
      await writing;
    },
  };
}

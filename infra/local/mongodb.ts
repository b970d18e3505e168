// MongoDB for the local cloud: a wire-protocol server (congodb) that keeps documents in memory, with the
// local cloud's own persistence. congodb's file storage rewrites a whole collection file per operation and
// loses writes that overlap (60 concurrent upserts left one document), so we use its memory storage, which is
// correct under concurrency, and make it durable ourselves:
//
// - Every change to memory is appended, in the order it happened, to a journal (`journal-<g>.bson`: framed
//   BSON records with a CRC), and no reply leaves the server before the journal is fsynced up to that moment:
//   an acknowledged write survives kill -9 and power loss, and a read never shows a write that could still be
//   lost. Concurrent commands share one fsync (group commit), so a write costs its own bytes and a share of an
//   fsync, not the size of the store.
// - Now and then the journal is compacted: the documents are captured by reference at one instant (documents
//   are replaced, never changed in place, so that is a consistent view), new changes go to the next journal,
//   and the captured view is written as `snapshot-<g>.bson` in slices that yield to the event loop; the
//   older journals are removed once the snapshot is fsynced and renamed into place.
// - At start: the newest complete snapshot (or the older `snapshot.ejson` format, converted by the next
//   compaction), then every later journal in order; a torn record at a journal's end was never acknowledged.
//
// congodb filters every query over the whole collection; a filter on `_id` (equality or `$in`) is narrowed to
// the documents it names first, so reading or writing a document by its id costs that document, not the store.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { deserialize, EJSON, serialize, type Document } from 'bson';
import { congodb } from '@push.rocks/smartmongo';
import { makePrivateDir, syncPath } from './files.ts';
import type { UsageMeter } from './usage.ts';

export interface LocalMongo {
  readonly uri: string;
  readonly port: number;
  /** Resolves when every write is on disk and no compaction is running (a bench measures after it). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

type Doc = Record<string, unknown> & { _id: { toHexString(): string } };

/** congodb's handler of hello (and isMaster): one object, shared by both commands. */
interface HelloHandler {
  handle(context: unknown): Promise<Record<string, unknown>>;
}

/** The parts of congodb's MemoryStorageAdapter that the journal reads and replays. */
interface MemoryStorage {
  databases: Map<string, Map<string, Map<string, Doc>>>;
  indexes: Map<string, Map<string, unknown[]>>;
  ensureCollection(db: string, coll: string): Map<string, Doc>;
  [method: string]: unknown;
}

/** One change to the store, as journaled and replayed. */
type Change =
  | { op: 'put'; db: string; coll: string; doc: Doc }
  | { op: 'delete'; db: string; coll: string; id: string }
  | { op: 'indexes'; db: string; coll: string; list: unknown[] }
  | { op: 'call'; method: string; args: unknown[] };

/** Methods that change databases, collections or indexes: replayed by calling them again. */
const STRUCTURAL = ['createDatabase', 'dropDatabase', 'createCollection', 'dropCollection', 'renameCollection', 'saveIndex', 'dropIndex'];

/** Compact when the journals since the last snapshot exceed this, and exceed the snapshot itself. */
const COMPACT_MIN_BYTES = 32 * 1024 * 1024;
/** A snapshot is written in slices of about this many bytes, yielding to the event loop between them. */
const SLICE_BYTES = 1024 * 1024;

const LEGACY_SNAPSHOT = 'snapshot.ejson';
const snapshotFile = (g: number) => `snapshot-${g}.bson`;
const journalFile = (g: number) => `journal-${g}.bson`;

/** [length u32][crc32 u32][BSON]: a torn or zero-filled tail fails the length or the CRC. */
function frame(change: Change): Buffer {
  const body = serialize(change as unknown as Document);
  const head = Buffer.allocUnsafe(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** The changes of one file, up to the first torn record. */
function* records(bytes: Buffer): Generator<Change> {
  let at = 0;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (length < 5 || at + 8 + length > bytes.length) return;
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(body) !== bytes.readUInt32LE(at + 4)) return;
    yield deserialize(body) as Change;
    at += 8 + length;
  }
}

const hex = (id: unknown): string => (id as { toHexString?: () => string }).toHexString?.() ?? String(id);

async function apply(storage: MemoryStorage, originals: Record<string, (...args: unknown[]) => Promise<unknown>>, c: Change): Promise<void> {
  switch (c.op) {
    case 'put':
      storage.ensureCollection(c.db, c.coll).set(hex(c.doc._id), c.doc);
      return;
    case 'delete':
      storage.databases.get(c.db)?.get(c.coll)?.delete(c.id);
      return;
    case 'indexes':
      storage.ensureCollection(c.db, c.coll);
      storage.indexes.get(c.db)!.set(c.coll, c.list);
      return;
    case 'call':
      // Awaited: createCollection and saveIndex finish their work after an await of their own.
      await originals[c.method]!.apply(storage, c.args).catch(() => undefined);
  }
}

/** The older format: the whole store as one Extended JSON document. */
function restoreLegacy(storage: MemoryStorage, file: string): void {
  const snapshot = EJSON.parse(readFileSync(file, 'utf8'), { relaxed: false }) as {
    databases: Record<string, Record<string, Doc[]>>;
    indexes: Record<string, Record<string, unknown[]>>;
  };
  for (const [db, collections] of Object.entries(snapshot.databases)) {
    for (const [coll, docs] of Object.entries(collections)) {
      const map = storage.ensureCollection(db, coll);
      for (const d of docs) map.set(hex(d._id), d);
    }
  }
  for (const [db, collections] of Object.entries(snapshot.indexes)) {
    for (const [coll, list] of Object.entries(collections)) {
      storage.ensureCollection(db, coll);
      storage.indexes.get(db)!.set(coll, list);
    }
  }
}


/** Appends changes in order and fsyncs them in groups; `durable()` resolves when all appended so far are on disk. */
class Journal {
  private queue: (Buffer | { rotateTo: number })[] = [];
  private appended = 0;
  private synced = 0;
  private waiters: { upTo: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private flushing = false;
  private file: FileHandle | undefined;
  /** Bytes journaled since the last snapshot (what a start would replay). */
  bytes = 0;

  constructor(
    private readonly dir: string,
    public generation: number,
  ) {}

  /** Returns the bytes of the record. */
  append(change: Change): number {
    const record = frame(change);
    this.bytes += record.length;
    this.queue.push(record);
    this.appended++;
    return record.length;
  }

  /** Later changes go to the next journal; returns its generation. */
  rotate(): number {
    this.generation++;
    this.queue.push({ rotateTo: this.generation });
    this.bytes = 0;
    return this.generation;
  }

  durable(): Promise<void> {
    if (this.synced >= this.appended && this.queue.length === 0) return Promise.resolve();
    const upTo = this.appended;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ upTo, resolve, reject }));
    this.kick();
    return done;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = true;
    void this.drain()
      .catch((err: Error) => {
        for (const w of this.waiters.splice(0)) w.reject(err);
      })
      .finally(() => {
        this.flushing = false;
        if (this.queue.length > 0 && this.waiters.length > 0) this.kick();
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      const upTo = this.appended;
      this.queue = [];
      let buffers: Buffer[] = [];
      for (const item of batch) {
        if (Buffer.isBuffer(item)) {
          buffers.push(item);
          continue;
        }
        await this.write(buffers);
        buffers = [];
        await this.file?.close();
        this.file = undefined;
        await this.openFile(item.rotateTo);
      }
      await this.write(buffers);
      this.synced = upTo;
      this.waiters = this.waiters.filter((w) => (w.upTo <= upTo ? (w.resolve(), false) : true));
    }
  }

  private async openFile(generation: number): Promise<FileHandle> {
    this.file = await open(join(this.dir, journalFile(generation)), 'a');
    await syncPath(this.dir); // the new file's name is durable before any record in it is acknowledged
    return this.file;
  }

  private async write(buffers: Buffer[]): Promise<void> {
    if (buffers.length === 0) return;
    const file = this.file ?? (await this.openFile(this.generation));
    let bytes = Buffer.concat(buffers);
    while (bytes.length > 0) {
      const { bytesWritten } = await file.write(bytes);
      bytes = bytes.subarray(bytesWritten);
    }
    await file.datasync();
  }

  async close(): Promise<void> {
    await this.durable();
    await this.file?.close();
    this.file = undefined;
  }
}

/** The ids a filter names when it is `{_id: ObjectId}` or `{_id: {$in: [ObjectId...]}}`; undefined otherwise. */
function idsOf(filter: unknown): string[] | undefined {
  if (!filter || typeof filter !== 'object') return undefined;
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0] !== '_id') return undefined;
  const isId = (v: unknown) => (v as { _bsontype?: string } | null)?._bsontype === 'ObjectId';
  const id = (filter as { _id: unknown })._id;
  if (isId(id)) return [hex(id)];
  const ops = id && typeof id === 'object' ? Object.keys(id) : [];
  const list = (id as { $in?: unknown }).$in;
  if (ops.length === 1 && Array.isArray(list) && list.every(isId)) return list.map(hex);
  return undefined;
}

/** The filters of a command whose results are limited to documents named by `_id`. */
function filtersOf(name: string, command: Record<string, unknown>, sequences?: Map<string, unknown[]>): unknown[] | undefined {
  const statements = (key: string, field: string) => ((sequences?.get(key) ?? command[key] ?? []) as Record<string, unknown>[]).map((s) => s[field] ?? {});
  switch (name) {
    case 'find':
      return [command.filter ?? {}];
    case 'findAndModify':
      return [command.query ?? {}];
    case 'update':
      return statements('updates', 'q');
    case 'delete':
      return statements('deletes', 'q');
    default:
      return undefined;
  }
}

interface Command {
  commandName: string;
  command: Record<string, unknown>;
  database: string;
  documentSequences?: Map<string, unknown[]>;
}
interface Handler {
  handle(context: { storage: MemoryStorage; command: Record<string, unknown>; documentSequences?: Map<string, unknown[]> }): Promise<unknown>;
}

/** Accepts only ObjectId `_id`s and enforces no unique secondary index: stores use deterministic ObjectIds. */
export async function startMongo(opts: {
  dataDir: string;
  /** 0 for one the system chooses (the started server's `port`). */
  port: number;
  /** Journal bytes that trigger a compaction (tests make it small to compact often). */
  compactAfterBytes?: number;
  log?: (line: object) => void;
  /** Hears of every document written (usage.ts). */
  usage?: UsageMeter;
}): Promise<LocalMongo> {
  const compactAfter = opts.compactAfterBytes ?? COMPACT_MIN_BYTES;
  const dir = opts.dataDir;
  const log = opts.log ?? (() => undefined);
  makePrivateDir(dir);
  const server = new congodb.CongoServer({ port: opts.port, host: '127.0.0.1', storage: 'memory' });
  // congodb's hello announces the streaming protocol (topologyVersion) but answers a streaming hello once, without
  // moreToCome: a driver that streams (any driver not on Lambda) then fails a heartbeat each time and clears its
  // pool under the operations in flight. Without topologyVersion every driver polls.
  const hello = (server as unknown as { commandRouter: { handlers: Map<string, HelloHandler> } }).commandRouter.handlers.get('hello')!;
  const answerHello = hello.handle.bind(hello);
  hello.handle = async (context) => {
    const { topologyVersion: _announced, ...answer } = await answerHello(context);
    return answer;
  };
  const storage = server.getStorage() as unknown as MemoryStorage;
  const originals: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of ['insertOne', 'updateById', 'deleteById', ...STRUCTURAL]) {
    originals[method] = storage[method] as (...args: unknown[]) => Promise<unknown>;
  }

  // Restore: the newest complete snapshot, then the journals from its generation on.
  const files = readdirSync(dir);
  const generations = (prefix: string) =>
    files.flatMap((f) => {
      const m = new RegExp(`^${prefix}-(\\d+)\\.bson$`).exec(f);
      return m ? [Number(m[1])] : [];
    }).sort((a, b) => a - b);
  const snapshots = generations('snapshot');
  const base = snapshots.at(-1);
  const legacy = base === undefined && existsSync(join(dir, LEGACY_SNAPSHOT));
  const snapshot = base === undefined ? undefined : readFileSync(join(dir, snapshotFile(base)));
  if (snapshot) for (const c of records(snapshot)) await apply(storage, originals, c);
  else if (legacy) restoreLegacy(storage, join(dir, LEGACY_SNAPSHOT));
  let replayed = 0;
  const journals = generations('journal').filter((g) => base === undefined || g >= base);
  for (const g of journals) {
    const bytes = readFileSync(join(dir, journalFile(g)));
    replayed += bytes.length;
    for (const c of records(bytes)) await apply(storage, originals, c);
  }
  for (const f of files) {
    const m = /^(snapshot|journal)-(\d+)\.bson(\.tmp)?$/.exec(f);
    if (m && (m[3] || (base !== undefined && Number(m[2]) < base))) rmSync(join(dir, f), { force: true });
  }

  // New changes go to a journal of their own, after every file read above (never after a torn tail).
  const journal = new Journal(dir, Math.max(base ?? 0, journals.at(-1) ?? 0) + 1);
  journal.bytes = replayed;
  let snapshotBytes = snapshot?.length ?? 0;

  // The journal's order is the order of the changes in memory: insertOne, updateById and deleteById change memory
  // within the call, before their promise resolves, so their continuations (which append) run in call order.
  storage.insertOne = async (...args: unknown[]) => {
    const stored = (await originals.insertOne!.apply(storage, args)) as Doc;
    const bytes = journal.append({ op: 'put', db: args[0] as string, coll: args[1] as string, doc: stored });
    opts.usage?.recordMongoWrite('insert', bytes);
    return stored;
  };
  storage.updateById = async (...args: unknown[]) => {
    const updated = (await originals.updateById!.apply(storage, args)) as boolean;
    if (updated) {
      const bytes = journal.append({ op: 'put', db: args[0] as string, coll: args[1] as string, doc: args[3] as Doc });
      opts.usage?.recordMongoWrite('update', bytes);
    }
    return updated;
  };
  storage.deleteById = async (...args: unknown[]) => {
    const deleted = (await originals.deleteById!.apply(storage, args)) as boolean;
    if (deleted) {
      const bytes = journal.append({ op: 'delete', db: args[0] as string, coll: args[1] as string, id: hex(args[2]) });
      opts.usage?.recordMongoWrite('delete', bytes);
    }
    return deleted;
  };
  for (const method of STRUCTURAL) {
    storage[method] = async (...args: unknown[]) => {
      // congodb calls createDatabase / createCollection before every write: journal only what changes something.
      const [db, coll] = args as [string, string];
      if (method === 'createDatabase' && storage.databases.has(db)) return undefined;
      if (method === 'createCollection' && storage.databases.get(db)?.has(coll)) return undefined;
      const result = await originals[method]!.apply(storage, args);
      journal.append({ op: 'call', method, args });
      return result;
    };
  }

  // A compaction: capture at one instant, then write it in slices while the server keeps serving.
  let compacting: Promise<void> | undefined;
  const compact = async (): Promise<void> => {
    const started = Date.now();
    const captured: Change[] = [];
    const collections: { db: string; coll: string; docs: Doc[] }[] = [];
    for (const [db, colls] of storage.databases) {
      captured.push({ op: 'call', method: 'createDatabase', args: [db] });
      for (const [coll, docs] of colls) collections.push({ db, coll, docs: [...docs.values()] });
    }
    for (const [db, colls] of storage.indexes) {
      for (const [coll, list] of colls) captured.push({ op: 'indexes', db, coll, list: structuredClone(list) });
    }
    const generation = journal.rotate();
    const file = join(dir, snapshotFile(generation));
    const out = await open(`${file}.tmp`, 'w');
    let written = 0;
    try {
      let slice: Buffer[] = [];
      let sliceBytes = 0;
      const add = async (c: Change) => {
        const record = frame(c);
        slice.push(record);
        sliceBytes += record.length;
        if (sliceBytes < SLICE_BYTES) return;
        await out.write(Buffer.concat(slice));
        written += sliceBytes;
        slice = [];
        sliceBytes = 0;
        await yieldToEventLoop();
      };
      for (const c of captured) await add(c);
      for (const { db, coll, docs } of collections) for (const doc of docs) await add({ op: 'put', db, coll, doc });
      await out.write(Buffer.concat(slice));
      written += sliceBytes;
      await out.datasync();
    } finally {
      await out.close();
    }
    await journal.durable(); // the rotation is on disk: the next journal exists before the older ones go
    await rename(`${file}.tmp`, file);
    await syncPath(dir);
    for (const f of readdirSync(dir)) {
      const m = /^(snapshot|journal)-(\d+)\.bson$/.exec(f);
      if ((m && Number(m[2]) < generation) || f === LEGACY_SNAPSHOT) await rm(join(dir, f), { force: true });
    }
    snapshotBytes = written;
    log({ level: 'INFO', message: 'MongoDB journal compacted', generation, bytes: written, ms: Date.now() - started });
  };
  const compactIfDue = () => {
    if (compacting || journal.bytes < Math.max(compactAfter, snapshotBytes)) return;
    compacting = compact()
      .catch((err: Error) => log({ level: 'ERROR', message: 'MongoDB compaction failed', error: err.message }))
      .finally(() => (compacting = undefined));
  };

  // No reply before the journal holds every change made up to it; reads by `_id` see only the named documents.
  const router = (server as unknown as { commandRouter: { route(c: Command): Promise<unknown>; handlers: Map<string, Handler> } }).commandRouter;
  const route = router.route.bind(router);
  router.route = async (command: Command) => {
    const response = await route(command);
    await journal.durable();
    compactIfDue();
    return response;
  };
  for (const name of ['find', 'findAndModify', 'update', 'delete']) {
    const handler = router.handlers.get(name)!;
    const handle = handler.handle.bind(handler);
    router.handlers.set(name, {
      handle(context) {
        const filters = filtersOf(name, context.command, context.documentSequences);
        const named = filters?.map(idsOf);
        if (!named || named.length === 0 || named.some((ids) => ids === undefined)) return handle(context);
        const ids = [...new Set(named.flat() as string[])];
        const narrowed = Object.create(storage, {
          findAll: {
            value: async (db: string, coll: string) => {
              const docs = storage.ensureCollection(db, coll);
              return ids.flatMap((id) => docs.get(id) ?? []);
            },
          },
        }) as MemoryStorage;
        return handle({ ...context, storage: narrowed });
      },
    });
  }

  await server.start();
  // Port 0 is the system's choice, free when it is made (a port chosen beforehand may be taken before the listen).
  const port = ((server as unknown as { server: Server }).server.address() as AddressInfo).port;
  if (legacy || journal.bytes >= Math.max(compactAfter, snapshotBytes)) {
    journal.bytes = Math.max(journal.bytes, compactAfter);
    compactIfDue();
  }
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    port,
    async flush() {
      await journal.durable();
      await compacting;
    },
    async stop() {
      await server.stop();
      await compacting;
      await journal.close();
    },
  };
}

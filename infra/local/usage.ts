// What a run of the local cloud really did, in the units AWS bills: each stand-in reports its own requests as it
// serves them (the functions their invocations, fauxqs's app its S3 and SQS requests, the DynamoDB gate the
// capacity units dynalite computed, the Step Functions engine its state transitions, the MongoDB server its
// document writes), and PostgreSQL's own counters are read when a snapshot is taken. Counting is a few additions
// per request; nothing here changes what a request does or answers.
import { crc32 } from 'node:zlib';
import pg from 'pg';

export interface FunctionUsage {
  invocations: number;
  /** Sum of each invocation's duration rounded up to the millisecond, as Lambda bills it. */
  billedMs: number;
  /** The function's configured memory (not a counter: the same in a diff). */
  memoryMb: number;
}

export interface UsageSnapshot {
  /** Epoch milliseconds of the snapshot (in a diff: the milliseconds between the two). */
  at: number;
  functions: Record<string, FunctionUsage>;
  s3: {
    /** PUT, COPY, POST and LIST requests. */
    tier1: number;
    /** GET, HEAD and every other request except DELETE (which S3 does not bill). */
    tier2: number;
    byAction: Record<string, number>;
    /** PUT-class (tier 1) requests by the key's first folder (`frames/`, `videos/`; `` for a bucket request): what a storage class prices. */
    tier1ByPrefix: Record<string, number>;
    /** Bytes of the objects in each bucket (in a diff: what the run added). */
    storedBytes: Record<string, number>;
  };
  sqs: {
    /** Billed requests: each API call, one more per further 64 KB of its request or its answer. */
    requests: number;
    byAction: Record<string, number>;
    /** ReceiveMessage calls answered with no message (a poller's wait that ended empty). */
    emptyReceives: number;
  };
  stepFunctions: {
    /** States entered (Map iterations' included) and retries: what a Standard workflow bills. */
    transitions: number;
    byStateMachine: Record<string, number>;
  };
  dynamodb: {
    /** Read request units: per 4 KB read, halved for an eventually consistent read. */
    readUnits: number;
    /** Write request units: per 1 KB written (the larger of the item before and after). */
    writeUnits: number;
    byAction: Record<string, number>;
  };
  mongodb: {
    documentsInserted: number;
    documentsUpdated: number;
    documentsDeleted: number;
    /** Bytes journaled for the documents written (their BSON and a record header). */
    bytesWritten: number;
  };
  postgres: {
    rowsInserted: number;
    rowsUpdated: number;
    rowsDeleted: number;
    commits: number;
    /** Write-ahead log bytes written (the server's WAL position, exact at any moment; the row counters lag up to ~10 s). */
    walBytes: number;
  };
}

const add = (counts: Record<string, number>, key: string, n = 1): void => {
  counts[key] = (counts[key] ?? 0) + n;
};

/** An SQS call's billed requests: one per started 64 KB of its payload, at least one. */
export const sqsBilledRequests = (requestBytes: number, answerBytes: number): number =>
  Math.max(1, Math.ceil(requestBytes / 65_536), Math.ceil(answerBytes / 65_536));

/** An S3 request's action and AWS price class (1: PUT, COPY, POST, LIST; 2: GET and the rest; 0: not billed). */
export function s3PriceClass(method: string, url: string, headers: Readonly<Record<string, string | string[] | undefined>>): { action: string; tier: 0 | 1 | 2 } {
  const { pathname, searchParams: q } = new URL(url, 'http://local');
  const key = pathname.slice(1).split('/').slice(1).join('/');
  if (method === 'DELETE') return { action: q.has('uploadId') ? 'AbortMultipartUpload' : key ? 'DeleteObject' : 'DeleteBucket', tier: 0 };
  if (method === 'OPTIONS') return { action: 'Preflight', tier: 2 };
  if (!key) {
    if (method === 'GET') return { action: q.has('uploads') ? 'ListMultipartUploads' : 'ListObjects', tier: 1 };
    if (method === 'HEAD') return { action: 'HeadBucket', tier: 2 };
    return { action: method === 'POST' && q.has('delete') ? 'DeleteObjects' : 'BucketRequest', tier: 1 };
  }
  if (method === 'GET') return q.has('uploadId') ? { action: 'ListParts', tier: 1 } : { action: 'GetObject', tier: 2 };
  if (method === 'HEAD') return { action: 'HeadObject', tier: 2 };
  if (method === 'POST') {
    const action = q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : q.has('restore') ? 'RestoreObject' : 'PostObject';
    return { action, tier: 1 };
  }
  if (q.has('partNumber')) return { action: headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart', tier: 1 };
  return { action: headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject', tier: 1 };
}

/** The counters of one local cloud. Stand-ins call the `record…` methods; `snapshot()` reads them all. */
export class UsageMeter {
  private readonly counts: Omit<UsageSnapshot, 'at' | 'postgres'> = {
    functions: {},
    s3: { tier1: 0, tier2: 0, byAction: {}, tier1ByPrefix: {}, storedBytes: {} },
    sqs: { requests: 0, byAction: {}, emptyReceives: 0 },
    stepFunctions: { transitions: 0, byStateMachine: {} },
    dynamodb: { readUnits: 0, writeUnits: 0, byAction: {} },
    mongodb: { documentsInserted: 0, documentsUpdated: 0, documentsDeleted: 0, bytesWritten: 0 },
  };

  constructor(
    private readonly sources: {
      /** Bytes stored per bucket now. */
      storedBytes?: () => Record<string, number>;
      /** The PostgreSQL database to read counters from. */
      postgresUrl?: () => string | undefined;
    } = {},
  ) {}

  recordInvocation(fn: string, memoryMb: number, ms: number): void {
    const f = (this.counts.functions[fn] ??= { invocations: 0, billedMs: 0, memoryMb });
    f.invocations++;
    f.billedMs += Math.max(1, Math.ceil(ms));
  }

  recordS3Request(action: string, tier: 0 | 1 | 2, prefix = ''): void {
    if (tier === 1) {
      this.counts.s3.tier1++;
      add(this.counts.s3.tier1ByPrefix, prefix);
    }
    if (tier === 2) this.counts.s3.tier2++;
    add(this.counts.s3.byAction, action);
  }

  recordSqsRequest(action: string, billed: number, empty: boolean): void {
    this.counts.sqs.requests += billed;
    add(this.counts.sqs.byAction, action, billed);
    if (empty) this.counts.sqs.emptyReceives++;
  }

  recordStateTransition(stateMachine: string): void {
    this.counts.stepFunctions.transitions++;
    add(this.counts.stepFunctions.byStateMachine, stateMachine);
  }

  recordDynamoUnits(action: string, units: { read: number; write: number }): void {
    this.counts.dynamodb.readUnits += units.read;
    this.counts.dynamodb.writeUnits += units.write;
    add(this.counts.dynamodb.byAction, action);
  }

  recordMongoWrite(kind: 'insert' | 'update' | 'delete', bytes: number): void {
    const m = this.counts.mongodb;
    if (kind === 'insert') m.documentsInserted++;
    else if (kind === 'update') m.documentsUpdated++;
    else m.documentsDeleted++;
    m.bytesWritten += bytes;
  }

  async snapshot(): Promise<UsageSnapshot> {
    const copy = structuredClone(this.counts);
    copy.s3.storedBytes = this.sources.storedBytes?.() ?? {};
    return { at: Date.now(), ...copy, postgres: await postgresCounters(this.sources.postgresUrl?.()) };
  }
}

async function postgresCounters(url: string | undefined): Promise<UsageSnapshot['postgres']> {
  const none = { rowsInserted: 0, rowsUpdated: 0, rowsDeleted: 0, commits: 0, walBytes: 0 };
  if (!url) return none;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT tup_inserted, tup_updated, tup_deleted, xact_commit, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS wal
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    const r = rows[0]!;
    return { rowsInserted: Number(r.tup_inserted), rowsUpdated: Number(r.tup_updated), rowsDeleted: Number(r.tup_deleted), commits: Number(r.xact_commit), walBytes: Number(r.wal) };
  } finally {
    await client.end();
  }
}

/** What happened between two snapshots: every counter of `after` less the one of `before` (memory as it was). */
export function usageDiff(before: UsageSnapshot, after: UsageSnapshot): UsageSnapshot {
  const subtract = (a: unknown, b: unknown, key?: string): unknown => {
    if (typeof a === 'number') return key === 'memoryMb' ? a : a - (typeof b === 'number' ? b : 0);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(a as Record<string, unknown>)) out[k] = subtract(v, (b as Record<string, unknown> | undefined)?.[k], k);
    return out;
  };
  return subtract(after, before) as UsageSnapshot;
}

interface MeteredRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

const payloadBytes = (payload: unknown, reply: { getHeader(name: string): unknown }): number =>
  typeof payload === 'string' ? Buffer.byteLength(payload) : Buffer.isBuffer(payload) ? payload.length : Number(reply.getHeader('content-length') ?? 0);

/** A Fastify onSend hook of fauxqs's app (S3 and SQS on one port) that counts each request it answers, payload unchanged. */
export function s3SqsMeter(usage: UsageMeter) {
  // fauxqs answers some requests (a PUT) through onSend twice: each request counts once.
  const counted = new WeakSet<MeteredRequest>();
  return async <P>(request: MeteredRequest, reply: { getHeader(name: string): unknown }, payload: P): Promise<P> => {
    if (counted.has(request)) return payload;
    counted.add(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target.startsWith('AmazonSQS.')) {
      const action = target.slice('AmazonSQS.'.length);
      const billed = sqsBilledRequests(Number(request.headers['content-length'] ?? 0), payloadBytes(payload, reply));
      usage.recordSqsRequest(action, billed, action === 'ReceiveMessage' && !(typeof payload === 'string' && payload.includes('"Messages"')));
    } else if (!(request.method === 'POST' && new URL(request.url, 'http://local').pathname === '/')) {
      // (a POST to the root is SNS's query protocol, which nothing here bills)
      const { action, tier } = s3PriceClass(request.method, request.url, request.headers);
      const key = new URL(request.url, 'http://local').pathname.split('/').slice(2);
      usage.recordS3Request(action, tier, key.length > 1 ? `${key[0]}/` : '');
    }
    return payload;
  };
}

const DYNAMO_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

interface ConsumedCapacity {
  CapacityUnits?: number;
}

/**
 * Counts the request units of DynamoDB's item calls from what dynalite computes (per 4 KB read, per 1 KB written):
 * a call that did not ask for ReturnConsumedCapacity is forwarded asking for it, and its answer given back without
 * it (and with the checksum the SDK verifies computed again), so the caller sees dynalite's own answer.
 */
export function dynamoUnitsMeter(usage: UsageMeter) {
  return (target: string, input: unknown) => {
    const action = target.split('.').pop() ?? '';
    const read = DYNAMO_READS.has(action);
    if ((!read && !DYNAMO_WRITES.has(action)) || !input || typeof input !== 'object') return undefined;
    const asked = (input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity;
    const added = asked !== 'TOTAL' && asked !== 'INDEXES';
    type Headers = Record<string, string | string[] | undefined>;
    return {
      body: added ? Buffer.from(JSON.stringify({ ...input, ReturnConsumedCapacity: 'TOTAL' })) : undefined,
      answer(status: number, headers: Headers, received: Buffer): { body: Buffer; headers: Headers } {
        let parsed: { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] } | undefined;
        try {
          parsed = status === 200 && !headers['content-encoding'] ? JSON.parse(received.toString('utf8')) : undefined;
        } catch {
          parsed = undefined;
        }
        if (!parsed) return { body: received, headers };
        const units = [parsed.ConsumedCapacity ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        usage.recordDynamoUnits(action, read ? { read: units, write: 0 } : { read: 0, write: units });
        if (!added) return { body: received, headers };
        delete parsed.ConsumedCapacity;
        const body = Buffer.from(JSON.stringify(parsed));
        return { body, headers: { ...headers, 'content-length': String(body.length), 'x-amz-crc32': String(crc32(body)) } };
      },
    };
  };
}

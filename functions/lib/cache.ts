// The shared cache: a DynamoDB table (`cache`: key, expiresAt) of compressed values; values too big for an
// item live in S3 under `cache/` of the media bucket, with a pointer in the item. Entries expire: DynamoDB TTL
// and an S3 lifecycle rule delete them in AWS, and readers ignore expired items (the local stand-ins never
// delete). A per-instance memory sits in front (keys carry versions, so it can never serve a stale value).
//
// Outage tolerance: every call has a short timeout, and any error is logged and treated as a miss (reads) or
// ignored (writes). The cache can make a request faster, never make it fail.
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchGetCommand, BatchWriteCommand, GetCommand, PutCommand, type BatchGetCommandOutput, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { cacheDynamo, cacheS3 } from './aws.ts';
import { config } from './config.ts';
import type { Encoding } from './encoding.ts';
import { logger } from './logger.ts';
import { SizedLru } from './sized-lru.ts';

/** A content coding, or a deflate segment (gzip-splice.ts): a part of gzip bodies, not a body itself. */
export type StoredEncoding = Encoding | 'deflate-segment';

export interface CacheValue {
  /** The stored bytes, in `encoding`. */
  readonly body: Buffer;
  readonly encoding: StoredEncoding;
  /** Small strings stored beside the value (e.g. the payload's ETag hash). */
  readonly meta: Readonly<Record<string, string>>;
}

interface Item {
  key: string;
  expiresAt: number;
  enc: StoredEncoding;
  meta: Record<string, string>;
  /** Inline value, or ... */
  v?: Uint8Array;
  /** ... the S3 key of a large one. */
  s3Key?: string;
}

const now = () => Math.floor(Date.now() / 1000);
const signal = () => AbortSignal.timeout(config.cacheTimeoutMs());

// ---- per-instance memory (LRU by bytes) ----
const memory = new SizedLru<{ value: CacheValue; expiresAt: number }>(() => config.cacheMemoryMb() * 1024 * 1024);

function remember(key: string, value: CacheValue, expiresAt: number): void {
  memory.set(key, { value, expiresAt }, value.body.length + key.length);
}

function recall(key: string): CacheValue | undefined {
  const e = memory.get(key);
  if (!e) return undefined;
  if (e.expiresAt > now()) return e.value;
  memory.delete(key);
  return undefined;
}

/** Empties this instance's memory (tests, and the bench's cold runs). */
export function clearMemory(): void {
  memory.clear();
}

// ---- the shared store ----
const s3KeyOf = (key: string) => `cache/${createHash('sha256').update(key).digest('hex')}`;

async function fromItem(item: Item): Promise<CacheValue | undefined> {
  if (item.expiresAt <= now()) return undefined;
  if (item.v) return { body: Buffer.from(item.v), encoding: item.enc, meta: item.meta ?? {} };
  if (!item.s3Key) return undefined;
  const out = await cacheS3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: item.s3Key }), { abortSignal: signal() });
  return { body: Buffer.from(await out.Body!.transformToByteArray()), encoding: item.enc, meta: item.meta ?? {} };
}

async function toItem(key: string, value: CacheValue, expiresAt: number): Promise<Item> {
  const item: Item = { key, expiresAt, enc: value.encoding, meta: { ...value.meta } };
  if (value.body.length <= config.cacheInlineMaxBytes()) return { ...item, v: value.body };
  const s3Key = s3KeyOf(key);
  await cacheS3().send(
    new PutObjectCommand({ Bucket: config.mediaBucket(), Key: s3Key, Body: value.body, Expires: new Date(expiresAt * 1000) }),
    { abortSignal: signal() },
  );
  return { ...item, s3Key };
}

function outage(op: string, err: unknown): void {
  logger.warn('cache unavailable, treated as a miss', { op, error: (err as Error).message ?? String(err) });
}

export async function cacheGet(key: string): Promise<CacheValue | undefined> {
  const remembered = recall(key);
  if (remembered) return remembered;
  try {
    const out = await cacheDynamo().send(new GetCommand({ TableName: config.cacheTable(), Key: { key } }), { abortSignal: signal() });
    const item = out.Item as Item | undefined;
    const value = item && (await fromItem(item));
    if (value) remember(key, value, item.expiresAt);
    return value;
  } catch (err) {
    outage('get', err);
    return undefined;
  }
}

/** The values found for `keys` (BatchGetItem, 100 keys per call, in parallel); missing and expired keys are absent. */
export async function cacheGetMany(keys: readonly string[]): Promise<Map<string, CacheValue>> {
  const found = new Map<string, CacheValue>();
  const wanted: string[] = [];
  for (const key of new Set(keys)) {
    const v = recall(key);
    if (v) found.set(key, v);
    else wanted.push(key);
  }
  const table = config.cacheTable();
  const chunks: string[][] = [];
  for (let i = 0; i < wanted.length; i += 100) chunks.push(wanted.slice(i, i + 100));
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = { [table]: { Keys: chunk.map((key) => ({ key })) } };
        for (let round = 0; request && round < 5; round++) {
          const out: BatchGetCommandOutput = await cacheDynamo().send(new BatchGetCommand({ RequestItems: request }), { abortSignal: signal() });
          for (const raw of out.Responses?.[table] ?? []) {
            const item = raw as Item;
            const value = await fromItem(item);
            if (value) {
              found.set(item.key, value);
              remember(item.key, value, item.expiresAt);
            }
          }
          const left: Record<string, unknown>[] | undefined = out.UnprocessedKeys?.[table]?.Keys;
          request = left?.length ? { [table]: { Keys: left } } : undefined;
        }
      } catch (err) {
        outage('getMany', err);
      }
    }),
  );
  return found;
}

export async function cachePut(key: string, value: CacheValue, ttlSeconds: number): Promise<void> {
  const expiresAt = now() + ttlSeconds;
  remember(key, value, expiresAt);
  try {
    const item = await toItem(key, value, expiresAt);
    await cacheDynamo().send(new PutCommand({ TableName: config.cacheTable(), Item: item }), { abortSignal: signal() });
  } catch (err) {
    outage('put', err);
  }
}

/** Stores many entries (BatchWriteItem, 25 per call, in parallel). */
export async function cachePutMany(entries: readonly { key: string; value: CacheValue }[], ttlSeconds: number): Promise<void> {
  const expiresAt = now() + ttlSeconds;
  for (const e of entries) remember(e.key, e.value, expiresAt);
  const table = config.cacheTable();
  const chunks: { key: string; value: CacheValue }[][] = [];
  for (let i = 0; i < entries.length; i += 25) chunks.push(entries.slice(i, i + 25));
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const items = await Promise.all(chunk.map((e) => toItem(e.key, e.value, expiresAt)));
        let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
          [table]: items.map((Item) => ({ PutRequest: { Item: { ...Item } } })),
        };
        for (let round = 0; request && round < 5; round++) {
          const out: BatchWriteCommandOutput = await cacheDynamo().send(new BatchWriteCommand({ RequestItems: request }), { abortSignal: signal() });
          const left = out.UnprocessedItems?.[table] as { PutRequest: { Item: Record<string, unknown> } }[] | undefined;
          request = left?.length ? ({ [table]: left } as typeof request) : undefined;
        }
      } catch (err) {
        outage('putMany', err);
      }
    }),
  );
}

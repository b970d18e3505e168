// Serving a cached JSON payload: one shared-cache entry per key holding the compressed payload (brotli, or gzip
// when it was spliced from cached parts) and its hash; the response is that entry in the encoding the request
// accepts (the stored one when it can), with a strong ETag, or a 304. A request that accepts only another coding
// gets the payload in that coding, made once (lazily, on the first such request) and kept as an entry of its own
// beside the stored one: recompressing a 2.4 MB body per request would cost tens of ms of CPU each.
import { cacheGet, cachePut, type CacheValue } from '../lib/cache.ts';
import { compress, decompress, ifNoneMatchHits, negotiateEncoding, payloadHash, representationEtag, type Encoding } from '../lib/encoding.ts';
import type { HttpResult } from '../lib/http.ts';
import { Reply } from '../lib/route.ts';

/** Entries carry versions in their keys; the expiry only bounds how long unused ones are kept. */
export const RESPONSE_TTL_SECONDS = 7 * 24 * 3600;

/** A payload built on a miss: its JSON text, or already gzip-compressed with the hash of its text. */
export type Built = ({ readonly json: string } | { readonly gzip: Buffer; readonly hash: string }) & {
  /** Extra response headers of a build (e.g. how many fragments it built). */
  readonly headers?: Record<string, string>;
};

type Response = CacheValue & { readonly encoding: Encoding };
/** A response is stored in a content coding (a deflate segment is a part of one, never under a response key). */
const isResponse = (v: CacheValue | undefined): v is Response => v !== undefined && v.encoding !== 'deflate-segment';

/** `headers`: the request's (lower-case names), for Accept-Encoding and If-None-Match. */
export async function serveCached(headers: Readonly<Record<string, string>>, key: string, build: () => Promise<Built>): Promise<Reply> {
  return new Reply(await cachedResult(headers, key, build));
}

async function cachedResult(request: Readonly<Record<string, string>>, key: string, build: () => Promise<Built>): Promise<HttpResult> {
  const cached = await cacheGet(key);
  let entry = isResponse(cached) ? cached : undefined;
  const out: Record<string, string> = { vary: 'accept-encoding', 'cache-control': 'private, no-cache', 'x-cache': entry ? 'hit' : 'miss' };
  let json: Buffer | undefined;
  if (!entry) {
    const built = await build();
    if ('gzip' in built) {
      entry = { body: built.gzip, encoding: 'gzip', meta: { hash: built.hash } };
    } else {
      json = Buffer.from(built.json);
      entry = { body: compress(json, 'br'), encoding: 'br', meta: { hash: payloadHash(json) } };
    }
    Object.assign(out, built.headers);
    await cachePut(key, entry, RESPONSE_TTL_SECONDS);
  }
  const hash = entry.meta.hash ?? payloadHash((json ??= decompress(entry.body, entry.encoding)));
  const encoding = negotiateEncoding(request['accept-encoding'], entry.encoding);
  out.etag = representationEtag(hash, encoding);
  if (ifNoneMatchHits(request['if-none-match'], hash)) return { status: 304, headers: out };
  if (encoding === entry.encoding) return { status: 200, headers: { ...out, 'content-encoding': encoding }, raw: entry.body };
  if (encoding === 'identity') return { status: 200, headers: out, raw: json ?? decompress(entry.body, entry.encoding) };
  const { body, built } = await transcoded(key, entry, encoding, json);
  return { status: 200, headers: { ...out, 'content-encoding': encoding, 'x-cache-transcoded': built ? 'built' : 'cached' }, raw: body };
}

/** The cache key of an entry's payload in another content coding (the entry's key carries its versions). */
export const transcodedKey = (key: string, encoding: Exclude<Encoding, 'identity'>): string => `${key}~${encoding}`;

/** Transcodings under way in this instance: concurrent requests for the same one share it. */
const transcoding = new Map<string, Promise<Buffer>>();

/** The payload of `entry` in `encoding`: cached, or made now and cached (`built`). */
async function transcoded(key: string, entry: Response, encoding: Exclude<Encoding, 'identity'>, json?: Buffer): Promise<{ body: Buffer; built: boolean }> {
  const k = transcodedKey(key, encoding);
  const pending = transcoding.get(k);
  if (pending) return { body: await pending, built: false };
  const cached = await cacheGet(k);
  if (cached?.encoding === encoding) return { body: cached.body, built: false };
  const again = transcoding.get(k);
  if (again) return { body: await again, built: false };
  const making = (async () => {
    const body = compress(json ?? decompress(entry.body, entry.encoding), encoding);
    await cachePut(k, { body, encoding, meta: entry.meta }, RESPONSE_TTL_SECONDS);
    return body;
  })();
  transcoding.set(k, making);
  try {
    return { body: await making, built: true };
  } finally {
    transcoding.delete(k);
  }
}

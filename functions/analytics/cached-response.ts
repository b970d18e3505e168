// Serving a cached JSON payload: one shared-cache entry per key holding the compressed payload (brotli, or gzip
// when it was spliced from cached parts) and its hash; the response is that entry in the encoding the request
// accepts (the stored one when it can), with a strong ETag, or a 304.
import { cacheGet, cachePut, type CacheValue } from '../lib/cache.ts';
import { compress, decompress, ifNoneMatchHits, negotiateEncoding, payloadHash, representationEtag, type Encoding } from '../lib/encoding.ts';
import type { HttpRequest, HttpResult } from '../lib/http.ts';

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

export async function serveCached(req: HttpRequest, key: string, build: () => Promise<Built>): Promise<HttpResult> {
  const cached = await cacheGet(key);
  let entry = isResponse(cached) ? cached : undefined;
  const headers: Record<string, string> = { vary: 'accept-encoding', 'cache-control': 'private, no-cache', 'x-cache': entry ? 'hit' : 'miss' };
  let json: Buffer | undefined;
  if (!entry) {
    const built = await build();
    if ('gzip' in built) {
      entry = { body: built.gzip, encoding: 'gzip', meta: { hash: built.hash } };
    } else {
      json = Buffer.from(built.json);
      entry = { body: compress(json, 'br'), encoding: 'br', meta: { hash: payloadHash(json) } };
    }
    Object.assign(headers, built.headers);
    await cachePut(key, entry, RESPONSE_TTL_SECONDS);
  }
  const hash = entry.meta.hash ?? payloadHash((json ??= decompress(entry.body, entry.encoding)));
  const encoding = negotiateEncoding(req.headers['accept-encoding'], entry.encoding);
  headers.etag = representationEtag(hash, encoding);
  if (ifNoneMatchHits(req.headers['if-none-match'], hash)) return { status: 304, headers };
  if (encoding === entry.encoding) return { status: 200, headers: { ...headers, 'content-encoding': encoding }, raw: entry.body };
  json ??= decompress(entry.body, entry.encoding);
  if (encoding === 'identity') return { status: 200, headers, raw: json };
  return { status: 200, headers: { ...headers, 'content-encoding': encoding }, raw: compress(json, encoding) };
}

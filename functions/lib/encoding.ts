// Content negotiation and compression for HTTP bodies and cache values: brotli (preferred), gzip, identity;
// strong ETags from the payload hash. Pure apart from zlib.
import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';

export type Encoding = 'br' | 'gzip' | 'identity';

/**
 * The encoding to answer with: `stored` (what the body is already in) when `accept-encoding` allows it, else the
 * best one it allows: br, then gzip, then identity (q=0 excludes; `*` allows any).
 */
export function negotiateEncoding(acceptEncoding: string | undefined, stored?: Encoding): Encoding {
  const q = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const allowed = (name: Encoding) => name === 'identity' || (q.get(name) ?? q.get('*') ?? 0) > 0;
  if (stored && allowed(stored)) return stored;
  if (allowed('br')) return 'br';
  if (allowed('gzip')) return 'gzip';
  return 'identity';
}

/**
 * Brotli at quality 4: on a 2 MB metrics response 1% larger than quality 5 in half its time (34 ms against 67 ms),
 * and what a response rebuild costs is mostly this.
 */
export function compress(data: Buffer, encoding: Encoding): Buffer {
  if (encoding === 'br') {
    return brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 4,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
  }
  if (encoding === 'gzip') return gzipSync(data, { level: 6 });
  return data;
}

export function decompress(data: Buffer, encoding: Encoding): Buffer {
  if (encoding === 'br') return brotliDecompressSync(data);
  if (encoding === 'gzip') return gunzipSync(data);
  return data;
}

/** A strong ETag of the payload (before content coding); see {@link representationEtag}. */
export const payloadHash = (payload: Buffer | string): string => createHash('sha256').update(payload).digest('base64url').slice(0, 27);

/** Each content coding is its own representation with its own strong ETag: `"<hash>"`, `"<hash>-br"`, `"<hash>-gzip"`. */
export const representationEtag = (hash: string, encoding: Encoding): string => (encoding === 'identity' ? `"${hash}"` : `"${hash}-${encoding}"`);

/** Does `if-none-match` name any representation of the payload with this hash? (`*` matches; weak tags compare weakly.) */
export function ifNoneMatchHits(ifNoneMatch: string | undefined, hash: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((raw) => {
    const tag = raw.trim().replace(/^W\//, '');
    if (tag === '*') return true;
    const value = tag.replace(/^"|"$/g, '');
    return value === hash || value === `${hash}-br` || value === `${hash}-gzip`;
  });
}

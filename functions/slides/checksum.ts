// The whole-file checks of a slide upload: its size, and the sha256 (or md5, for the chunk protocol) the client
// declared. Small uploads are read back and checked by complete itself; larger ones by the workflow's first download
// of the source, before anything is made of it (the API's 29 s would not read them).
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

export interface HeldObject {
  /** -1 when there is no object */
  size: number;
  sha256: string;
  md5: string;
}

export interface ChecksumMismatch {
  code: 'SizeMismatch' | 'ChecksumMismatch';
  message: string;
}

/** Size, sha256 and md5 of everything that passes through: `tap(body)` yields the same chunks while it counts. */
export function digester() {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let size = 0;
  return {
    tap: async function* (body: Readable): AsyncGenerator<Buffer> {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        sha256.update(bytes);
        md5.update(bytes);
        size += bytes.length;
        yield bytes;
      }
    },
    held: (): HeldObject => ({ size, sha256: sha256.digest('hex'), md5: md5.digest('hex') }),
  };
}

/** What the object held does not match of what the upload declared, or undefined when it all matches. Pure. */
export function checksumMismatch(declared: { sizeBytes: number; sha256?: string | null; md5?: string | null }, held: HeldObject): ChecksumMismatch | undefined {
  if (held.size !== declared.sizeBytes) {
    return { code: 'SizeMismatch', message: `the upload declared ${declared.sizeBytes} bytes; S3 holds ${held.size < 0 ? 'no object' : `${held.size} bytes`}` };
  }
  if (declared.sha256 && declared.sha256 !== held.sha256) {
    return { code: 'ChecksumMismatch', message: `the upload declared sha256 ${declared.sha256}; the object's is ${held.sha256}` };
  }
  if (declared.md5 && declared.md5 !== held.md5) {
    return { code: 'ChecksumMismatch', message: `the upload declared md5 ${declared.md5}; the object's is ${held.md5}` };
  }
  return undefined;
}

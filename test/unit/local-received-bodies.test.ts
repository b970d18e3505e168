// A body the local S3 streams to disk is received only once all of it is written: a write that fails (here the
// disk is full: /dev/full refuses every write) fails the request, even when it fails as the file ends.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { receiveToFile } from '../../infra/local/s3-received-bodies.ts';

describe('receiveToFile', () => {
  it('writes the body and gives its MD5 and size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'framewise-received-'));
    try {
      const body = randomBytes(3 * 1024 * 1024 + 7);
      const file = join(dir, 'body');
      const chunks = [body.subarray(0, 1000), body.subarray(1000)];
      const received = await receiveToFile(Readable.from(chunks), createWriteStream(file), body.length);
      expect(received).toEqual({ md5: createHash('md5').update(body).digest('hex'), size: body.length });
      expect(readFileSync(file).equals(body)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a body over the limit with a 413', async () => {
    const err = await receiveToFile(Readable.from([Buffer.alloc(11)]), createWriteStream('/dev/null'), 10).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 413 });
  });

  it('fails when the disk refuses the last write, which comes as the file ends', async () => {
    for (const size of [1, 64 * 1024, 1024 * 1024]) {
      const err = await receiveToFile(Readable.from([Buffer.alloc(size)]), createWriteStream('/dev/full'), 10 * 1024 * 1024).catch((e: unknown) => e);
      expect(err, `a body of ${size} bytes`).toMatchObject({ code: 'ENOSPC' });
    }
  });
});

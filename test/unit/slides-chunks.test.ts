// The chunk protocol's rules: what a Content-Range says, which part a chunk is, and the run after an image's job.
import { describe, expect, it } from 'vitest';
import { nextRun } from '../../functions/slides/images.ts';
import { CHUNK_BYTES, chunkPart, parseContentRange } from '../../functions/slides/uploads.ts';

describe('chunk protocol', () => {
  it('reads bytes a-b/total and refuses anything else', () => {
    expect(parseContentRange('bytes 0-9/10')).toEqual({ start: 0, end: 9, total: 10 });
    for (const bad of [undefined, '', 'bytes 0-9', 'bytes */10', 'items 0-9/10', 'bytes 5-4/10', 'bytes 0-10/10', 'bytes -1-9/10']) {
      expect(() => parseContentRange(bad), String(bad)).toThrow(expect.objectContaining({ status: 400, code: 'BadContentRange' }));
    }
  });

  it('maps 5 MiB chunks at multiples of 5 MiB to parts 1, 2, …; the last may be shorter', () => {
    const total = 2 * CHUNK_BYTES + 7;
    expect(chunkPart({ start: 0, end: CHUNK_BYTES - 1, total })).toBe(1);
    expect(chunkPart({ start: CHUNK_BYTES, end: 2 * CHUNK_BYTES - 1, total })).toBe(2);
    expect(chunkPart({ start: 2 * CHUNK_BYTES, end: total - 1, total })).toBe(3);
    expect(chunkPart({ start: 0, end: 99, total: 100 })).toBe(1);
  });

  it('refuses a short chunk that is not the last, a misaligned one and one over 5 MiB', () => {
    const total = 3 * CHUNK_BYTES;
    for (const chunk of [
      { start: 0, end: 99, total },
      { start: 100, end: 100 + CHUNK_BYTES - 1, total },
      { start: 0, end: CHUNK_BYTES, total },
      { start: CHUNK_BYTES + 1, end: total - 1, total },
    ]) {
      expect(() => chunkPart(chunk), JSON.stringify(chunk)).toThrow(expect.objectContaining({ status: 400, code: 'BadChunk' }));
    }
  });

  it('numbers an image\'s runs from its last job id', () => {
    expect(nextRun({ jobId: null })).toBe(1);
    expect(nextRun({ jobId: 'slide-0b7c6a8e-1f3d-4a5b-9c2d-3e4f5a6b7c8d-1' })).toBe(2);
    expect(nextRun({ jobId: 'slide-0b7c6a8e-1f3d-4a5b-9c2d-3e4f5a6b7c8d-12' })).toBe(13);
  });
});

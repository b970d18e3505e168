import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { documentId } from '../../functions/lib/document-id.ts';

describe('documentId', () => {
  it('is the first 12 bytes of SHA-1 of the parts joined by ":", as 24 hex characters', () => {
    // sha1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
    expect(documentId('abc')).toBe('a9993e364706816aba3e2571');
    const video = '0b5f7a3e-2f0c-4c55-9b8e-4f1d2a9c7e11';
    const group = '5c1d3b9a-8e7f-4a2b-9c6d-1e0f2a3b4c5d';
    const id = documentId(video, group, '10');
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(id).toBe(createHash('sha1').update(`${video}:${group}:10`).digest('hex').slice(0, 24));
  });

  it('is deterministic and tells keys apart', () => {
    expect(documentId('v', 'g')).toBe(documentId('v', 'g'));
    expect(new Set([documentId('v', 'g'), documentId('g', 'v'), documentId('v', 'g', 'video'), documentId('v', 'g', '1')]).size).toBe(4);
  });

  it('refuses parts that would make keys ambiguous', () => {
    expect(() => documentId('a:b', 'c')).toThrow(RangeError);
    expect(() => documentId()).toThrow(RangeError);
  });
});

import { crc32, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Combine, deflateSegment, gzipFromSegments } from '../../functions/lib/gzip-splice.ts';
import { seededRandom } from '../support/random.ts';

const text = (random: () => number, n: number) => Array.from({ length: n }, () => random().toFixed(6)).join(',');

describe('gzip spliced from independently compressed segments', () => {
  it('combines CRC-32s as if computed over the concatenation', () => {
    const random = seededRandom(7);
    for (const [a, b] of [['', ''], ['a', ''], ['', 'b'], ['hello ', 'world'], [text(random, 500), text(random, 3000)]] as const) {
      expect(crc32Combine(crc32(a), crc32(b), Buffer.byteLength(b))).toBe(crc32(a + b));
    }
  });

  it('inflates to the concatenation of the segments, in any order, stored and compressed alike', () => {
    const random = seededRandom(11);
    const parts = ['{"a":[', text(random, 2000), ',', '', text(random, 10), '], "é":"ü"', text(random, 40_000), '}'];
    const segments = parts.map((p) => deflateSegment(p));
    expect(gunzipSync(gzipFromSegments(segments)).toString()).toBe(parts.join(''));
    expect(gunzipSync(gzipFromSegments([...segments].reverse())).toString()).toBe([...parts].reverse().join(''));
    expect(gunzipSync(gzipFromSegments([])).toString()).toBe('');
    // a segment can be reused: a cached part appears in many responses
    expect(gunzipSync(gzipFromSegments([segments[1]!, segments[2]!, segments[1]!])).toString()).toBe(`${parts[1]!},${parts[1]!}`);
  });

  it('compresses large parts about as well as one whole-body gzip', () => {
    const body = text(seededRandom(3), 50_000);
    const spliced = gzipFromSegments([deflateSegment(body.slice(0, 200_000)), deflateSegment(body.slice(200_000))]);
    expect(gunzipSync(spliced).toString()).toBe(body);
    expect(spliced.length).toBeLessThan(body.length * 0.5);
  });
});

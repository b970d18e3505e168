import { describe, expect, it } from 'vitest';
import { AppError } from '../../functions/lib/errors.ts';
import { assertCleanText, MAX_JSON_DEPTH, s3Key } from '../../functions/lib/validate.ts';

const refusal = (value: unknown, where: 'path' | 'query' | 'body' = 'body') => {
  try {
    assertCleanText(value, where);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return { code: (err as AppError).code, details: (err as AppError).details };
  }
};
const nested = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: [v] };
  return v;
};

describe('text in a request', () => {
  it('refuses a NUL or a lone surrogate anywhere, in values and in keys, saying where', () => {
    expect(refusal({ name: 'a\u0000b' })).toEqual({ code: 'InvalidText', details: { where: 'body', path: 'name' } });
    expect(refusal({ a: [{ b: 'ok' }, { c: 'x\u0000' }] })).toEqual({ code: 'InvalidText', details: { where: 'body', path: 'a.1.c' } });
    expect(refusal({ ['k\u0000']: 1 })).toMatchObject({ code: 'InvalidText' });
    expect(refusal('\u0000')).toMatchObject({ code: 'InvalidText' });
    expect(refusal({ id: 'a\u0000' }, 'path')).toEqual({ code: 'InvalidText', details: { where: 'path', path: 'id' } });
    expect(refusal({ name: 'a\ud800' })).toMatchObject({ code: 'InvalidText' });
    expect(refusal({ name: '\udc00x' })).toMatchObject({ code: 'InvalidText' });
  });

  it('accepts any other text, numbers, booleans and null', () => {
    for (const ok of [undefined, null, 1, true, 'plain', { name: 'émoji 😀 \\u0000 as text', list: [1, 'two', null, { deep: 'x' }] }]) {
      expect(refusal(ok), JSON.stringify(ok)).toBeUndefined();
    }
  });

  it('refuses a body nested deeper than the limit, without recursing', () => {
    expect(refusal(nested(MAX_JSON_DEPTH / 2 - 1))).toBeUndefined();
    expect(refusal(nested(MAX_JSON_DEPTH))).toMatchObject({ code: 'TooDeep' });
    expect(refusal(nested(200_000))).toMatchObject({ code: 'TooDeep' });
  });
});

describe('S3 keys from a client', () => {
  it('holds at most 1,024 bytes of UTF-8', () => {
    expect(s3Key().safeParse('k'.repeat(1024)).success).toBe(true);
    expect(s3Key().safeParse('k'.repeat(1025)).success).toBe(false);
    expect(s3Key().safeParse('é'.repeat(512)).success).toBe(true);
    expect(s3Key().safeParse('é'.repeat(513)).success).toBe(false);
  });
});

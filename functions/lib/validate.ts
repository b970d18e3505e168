import { z } from 'zod';
import { AppError, validationFailed } from './errors.ts';

/** Validates `value` against `schema`; a mismatch is a 400 listing every issue. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw validationFailed(result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

/** Deeper than any request of the API nests; a deeper body is refused before any schema walks it. */
export const MAX_JSON_DEPTH = 32;

const LONE_SURROGATE = /\p{Cs}/u;

const invalidText = (where: string, path: string, problem: string) => {
  const shown = path.length > 100 ? `${path.slice(0, 100)}…` : path;
  return new AppError(400, 'InvalidText', `${where} ${shown || 'value'} ${problem}`, { where, path: shown });
};

/**
 * Refuses, anywhere in a request's path parameters, query or JSON body, a string (or object key) that holds a
 * NUL character or is not well-formed Unicode (a lone surrogate), and a body nested deeper than MAX_JSON_DEPTH.
 * PostgreSQL refuses a NUL in text and in jsonb; a lone surrogate is refused in jsonb and silently replaced
 * elsewhere; and no field of the API means either.
 */
export function assertCleanText(value: unknown, where: 'path' | 'query' | 'body'): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  const check = (text: string, path: string) => {
    if (text.includes('\u0000')) throw invalidText(where, path, 'contains a NUL character (U+0000)');
    if (LONE_SURROGATE.test(text)) throw invalidText(where, path, 'is not well-formed Unicode (a lone surrogate)');
  };
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') check(v, path);
    else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) throw new AppError(400, 'TooDeep', `The request ${where} nests deeper than ${MAX_JSON_DEPTH} levels`, { where, path });
      for (const [key, child] of Object.entries(v)) {
        const childPath = path ? `${path}.${key}` : key;
        check(key, childPath);
        stack.push({ value: child, path: childPath, depth: depth + 1 });
      }
    }
  }
}

/** S3 keys are at most 1,024 bytes of UTF-8. */
export const S3_KEY_MAX_BYTES = 1024;

/** An S3 key or key prefix taken from a client: at most S3_KEY_MAX_BYTES bytes of UTF-8. */
export const s3Key = () =>
  z.string().refine((k) => Buffer.byteLength(k, 'utf8') <= S3_KEY_MAX_BYTES, { message: `an S3 key is at most ${S3_KEY_MAX_BYTES} bytes (UTF-8)` });

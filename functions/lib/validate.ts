import type { z } from 'zod';
import { validationFailed } from './errors.ts';

/** Validates `value` against `schema`; a mismatch is a 400 listing every issue. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw validationFailed(result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  return result.data;
}

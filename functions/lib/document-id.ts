// Deterministic MongoDB `_id`s from natural keys ({video, det_group} and {video, det_group, resolution}). Pure.
import { createHash } from 'node:crypto';

/**
 * 24 hex characters (an ObjectId's 12 bytes): the first 12 bytes of SHA-1 of the parts joined by ':'.
 * A part may not contain ':' (that would make two different keys collide) and there must be at least one.
 */
export function documentId(...parts: string[]): string {
  if (parts.length === 0) throw new RangeError('documentId needs at least one part');
  for (const p of parts) if (p.includes(':')) throw new RangeError(`a documentId part may not contain ':' (${JSON.stringify(p)})`);
  return createHash('sha1').update(parts.join(':'), 'utf8').digest('hex').slice(0, 24);
}

import { describe, expect, it } from 'vitest';
import { parseFaultPoint } from '../../functions/lib/fault.ts';

describe('fault points', () => {
  it('name a function, a side of its side effects and the visit that fires', () => {
    expect(parseFaultPoint('ingest-frames:after')).toEqual({ fn: 'ingest-frames', at: 'after', nth: 1 });
    expect(parseFaultPoint('materialize-load-chunk:before:3')).toEqual({ fn: 'materialize-load-chunk', at: 'before', nth: 3 });
  });

  it('are off when unset or malformed', () => {
    for (const text of [undefined, '', 'ingest-frames', 'ingest-frames:during', 'ingest-frames:after:0', 'x:before:1:2']) {
      expect(parseFaultPoint(text)).toBeUndefined();
    }
  });
});

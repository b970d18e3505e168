import { describe, expect, it } from 'vitest';
import { faultPoint, parseFaultPoint, shareFaultVisits } from '../../functions/lib/fault.ts';

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

  it("count the visits of the point set in the count a function's instances share, and only those", () => {
    const visits = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(visits, 0, 5); // other instances visited it 5 times already
    shareFaultVisits(visits);
    const before = process.env.FRAMEWISE_FAULT_POINT;
    process.env.FRAMEWISE_FAULT_POINT = 'slides-dice-region:after:9';
    try {
      faultPoint('slides-dice-region', 'before');
      faultPoint('slides-dice', 'after');
      expect(visits[0]).toBe(5);
      faultPoint('slides-dice-region', 'after');
      faultPoint('slides-dice-region', 'after');
      expect(visits[0]).toBe(7);
    } finally {
      if (before === undefined) delete process.env.FRAMEWISE_FAULT_POINT;
      else process.env.FRAMEWISE_FAULT_POINT = before;
    }
  });
});

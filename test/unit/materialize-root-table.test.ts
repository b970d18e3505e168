// The supervoxel → root CSV, line by line: exact uint64 ids (≥ 2^53, ≥ 2^63), times with zones and microseconds,
// the COPY text written for PostgreSQL, and a clear problem naming the line for each kind of bad input.
import { describe, expect, it } from 'vitest';
import {
  checkHeader,
  copyTextLine,
  isoFromMicros,
  MAX_LISTED_PROBLEMS,
  parseRootLine,
  parseTimestamp,
  parseUint64,
  ProblemList,
  type LineResult,
} from '../../functions/materialize/segmentation/root-table.ts';

const row = (r: LineResult) => {
  if (!r.ok) throw new Error(r.problem.message);
  return r.row;
};
const problem = (r: LineResult) => {
  if (r.ok) throw new Error('expected a problem');
  return r.problem;
};
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe('the header', () => {
  it('must be exactly supervoxel_id,root_id,valid_from,valid_until', () => {
    expect(checkHeader('supervoxel_id,root_id,valid_from,valid_until')).toBeUndefined();
    expect(checkHeader('\uFEFFsupervoxel_id,root_id,valid_from,valid_until\r')).toBeUndefined();
    expect(checkHeader('"supervoxel_id","root_id","valid_from","valid_until"')).toBeUndefined();
    expect(checkHeader('root_id,supervoxel_id,valid_from,valid_until')).toMatchObject({ line: 1, code: 'BAD_HEADER' });
    expect(checkHeader('supervoxel_id,root_id,valid_from')).toMatchObject({ line: 1, code: 'BAD_HEADER' });
    expect(checkHeader('1,2,2024-01-01T00:00:00Z,')?.message).toMatch(/expected 'supervoxel_id,root_id,valid_from,valid_until'/);
    expect(checkHeader(undefined)).toMatchObject({ line: 1, code: 'EMPTY_FILE' });
    expect(checkHeader('  ')).toMatchObject({ code: 'EMPTY_FILE' });
  });
});

describe('a line', () => {
  it('reads ids exactly, beyond 2^53 and 2^63, and an empty valid_until as still valid', () => {
    expect(row(parseRootLine('18446744073709551615,9223372036854775808,2024-01-10T00:00:00Z,', 2))).toEqual({
      supervoxelId: 2n ** 64n - 1n,
      rootId: 2n ** 63n,
      validFrom: micros('2024-01-10T00:00:00Z'),
      validUntil: null,
    });
    expect(row(parseRootLine('9007199254740993,864691135622540001,2024-01-10T00:00:00Z,2024-03-02T12:00:00Z', 3)).supervoxelId).toBe(9007199254740993n);
  });

  it('accepts quoted fields, spaces around them, a space for T and zone offsets', () => {
    const r = row(parseRootLine(' "5" , 6 ,2024-03-02 14:00:00+02:00,"2024-03-02T12:00:01.5-00:30"', 4));
    expect(r.validFrom).toBe(micros('2024-03-02T12:00:00Z'));
    expect(r.validUntil).toBe(micros('2024-03-02T12:30:01.5Z'));
  });

  it('names the line and the field of every bad value', () => {
    const cases: [string, string, RegExp][] = [
      ['1,2,2024-01-01T00:00:00Z', 'FIELD_COUNT', /line 7: expected 4 fields .* found 3/],
      ['1,2,2024-01-01T00:00:00Z,,', 'FIELD_COUNT', /found 5/],
      ['-1,2,2024-01-01T00:00:00Z,', 'BAD_ID', /line 7: supervoxel_id '-1' is not a decimal unsigned integer/],
      ['1,2.5,2024-01-01T00:00:00Z,', 'BAD_ID', /root_id '2.5'/],
      ['1e5,2,2024-01-01T00:00:00Z,', 'BAD_ID', /supervoxel_id '1e5'/],
      ['18446744073709551616,2,2024-01-01T00:00:00Z,', 'BAD_ID', /does not fit in 64 bits/],
      ['0,2,2024-01-01T00:00:00Z,', 'ZERO_ID', /supervoxel_id 0 is the background/],
      ['1,0,2024-01-01T00:00:00Z,', 'ZERO_ID', /root_id 0/],
      ['1,2,,', 'BAD_TIME', /valid_from is empty/],
      ['1,2,2024-01-01T00:00:00,', 'BAD_TIME', /valid_from '2024-01-01T00:00:00' is not an ISO 8601 time with a zone/],
      ['1,2,2024-02-30T00:00:00Z,', 'BAD_TIME', /not a valid date and time/],
      ['1,2,2024-01-01T24:00:00Z,', 'BAD_TIME', /not a valid date and time/],
      ['1,2,1700000000,', 'BAD_TIME', /valid_from/],
      ['1,2,2024-01-01T00:00:00Z,yesterday', 'BAD_TIME', /valid_until 'yesterday'/],
      ['1,2,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z', 'EMPTY_INTERVAL', /valid_until \(2024-01-01T00:00:00Z\) must be after valid_from/],
      ['1,2,2024-01-01T00:00:00.000002Z,2024-01-01T00:00:00.000001Z', 'EMPTY_INTERVAL', /must be after/],
    ];
    for (const [text, code, message] of cases) {
      const p = problem(parseRootLine(text, 7));
      expect(p, text).toMatchObject({ line: 7, code });
      expect(p.message, text).toMatch(message);
    }
  });
});

describe('times', () => {
  it('keeps microseconds, which Date would lose', () => {
    expect(parseTimestamp('2024-03-02T12:00:00.123456Z')).toBe(micros('2024-03-02T12:00:00.123Z') + 456n);
    expect(isoFromMicros(micros('2024-03-02T12:00:00.123Z') + 456n)).toBe('2024-03-02T12:00:00.123456Z');
    expect(isoFromMicros(micros('1969-12-31T23:59:59.999Z') + 1n)).toBe('1969-12-31T23:59:59.999001Z');
  });
  it('refuses years Date.UTC would misread', () => {
    expect(parseTimestamp('0099-01-01T00:00:00Z')).toMatch(/year/);
  });
});

describe('ids', () => {
  it('parses decimal uint64 only', () => {
    expect(parseUint64('0')).toBe(0n);
    expect(parseUint64('00012')).toBe(12n);
    expect(parseUint64('18446744073709551615')).toBe(2n ** 64n - 1n);
    expect(parseUint64('0x10')).toMatch(/not a decimal/);
    expect(parseUint64('')).toMatch(/not a decimal/);
  });
});

describe('COPY text', () => {
  it('writes ids as the signed bigints PostgreSQL stores, times in UTC, NULL for still valid', () => {
    const r = row(parseRootLine('18446744073709551615,9223372036854775808,2024-03-02T14:00:00.5+02:00,', 9));
    expect(copyTextLine(9, r)).toBe('9\t-1\t-9223372036854775808\t2024-03-02T12:00:00.500000Z\t\\N\n');
    const s = row(parseRootLine('5,6,2024-01-01T00:00:00Z,2024-01-02T00:00:00Z', 10));
    expect(copyTextLine(10, s)).toBe('10\t5\t6\t2024-01-01T00:00:00.000000Z\t2024-01-02T00:00:00.000000Z\n');
  });
});

describe('the problem list', () => {
  it('lists the first problems and counts them all', () => {
    const list = new ProblemList();
    expect(list.empty).toBe(true);
    for (let i = 0; i < MAX_LISTED_PROBLEMS + 5; i++) list.add({ line: i + 2, code: 'BAD_ID', message: `line ${i + 2}` });
    expect(list.count).toBe(MAX_LISTED_PROBLEMS + 5);
    expect(list.listed).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(list.listed[0]!.line).toBe(2);
  });
});

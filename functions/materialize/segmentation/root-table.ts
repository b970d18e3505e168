// The supervoxel → root table an operator provides, as CSV: which root (agglomerated segment) each supervoxel
// belongs to, and when. Pure: line by line, so a file of any size streams through.
//
//   supervoxel_id,root_id,valid_from,valid_until
//   103547402473947136,864691135622540000,2024-01-10T00:00:00Z,2024-03-02T12:00:00Z
//   103547402473947136,864691135999999999,2024-03-02T12:00:00Z,
//
// - ids are decimal uint64 (0 < id < 2^64): never parsed through a double, so ids ≥ 2^53 and ≥ 2^63 survive;
// - times are ISO 8601 with a zone (`Z` or ±hh:mm; `T` or a space between date and time; up to 6 fraction
//   digits, PostgreSQL's precision); an empty valid_until means the root is still valid;
// - an interval is [valid_from, valid_until): the root is valid at valid_from and no longer at valid_until.
// Written here rather than with a CSV library because the format is four unquoted scalar fields; a library would
// add quoting rules the format does not allow and nothing else. Double quotes around a whole field are accepted,
// as spreadsheet exports add them.
import { TWO_64, uint64ToPg } from '../decode.ts';

export const ROOT_TABLE_COLUMNS = ['supervoxel_id', 'root_id', 'valid_from', 'valid_until'] as const;

export type RootTableProblemCode =
  /** No such object (found by the store). */
  | 'FILE_NOT_FOUND'
  | 'EMPTY_FILE'
  | 'BAD_HEADER'
  | 'FIELD_COUNT'
  | 'BAD_ID'
  | 'ZERO_ID'
  | 'BAD_TIME'
  | 'EMPTY_INTERVAL'
  /** Found after parsing, against the whole file and the table (store side). */
  | 'DUPLICATE_INTERVAL'
  | 'OVERLAPPING_INTERVALS';

export interface RootTableProblem {
  /** 1-based line of the file (the header is line 1). */
  line?: number;
  code: RootTableProblemCode;
  message: string;
}

export interface RootMapping {
  supervoxelId: bigint;
  rootId: bigint;
  /** Microseconds since the Unix epoch (UTC). */
  validFrom: bigint;
  validUntil: bigint | null;
}

export type LineResult = { ok: true; row: RootMapping } | { ok: false; problem: RootTableProblem };

const unquote = (field: string): string => {
  const f = field.trim();
  return f.length >= 2 && f.startsWith('"') && f.endsWith('"') ? f.slice(1, -1) : f;
};

const splitLine = (line: string): string[] => line.split(',').map(unquote);

/** Checks the header line (a UTF-8 byte order mark before it is ignored). */
export function checkHeader(line: string | undefined): RootTableProblem | undefined {
  if (line === undefined || line.trim() === '') return { line: 1, code: 'EMPTY_FILE', message: `the file is empty; it must start with the header ${ROOT_TABLE_COLUMNS.join(',')}` };
  const fields = splitLine(line.replace(/^\uFEFF/, ''));
  if (fields.length !== ROOT_TABLE_COLUMNS.length || fields.some((f, i) => f !== ROOT_TABLE_COLUMNS[i])) {
    return { line: 1, code: 'BAD_HEADER', message: `line 1: the header is '${line.trim()}'; expected '${ROOT_TABLE_COLUMNS.join(',')}'` };
  }
  return undefined;
}

const UINT64 = /^[0-9]{1,20}$/;

/** A decimal uint64 id, or why not. */
export function parseUint64(text: string): bigint | string {
  if (!UINT64.test(text)) return `'${text}' is not a decimal unsigned integer`;
  const v = BigInt(text);
  if (v >= TWO_64) return `${text} does not fit in 64 bits`;
  return v;
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})$/i;

/** An ISO 8601 time with a zone, as microseconds since the epoch; or why not. */
export function parseTimestamp(text: string): bigint | string {
  const m = TIME.exec(text);
  if (!m) return `'${text}' is not an ISO 8601 time with a zone, e.g. 2024-03-02T12:00:00Z`;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m as unknown as string[];
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  // Date.UTC maps years 0–99 to 1900–1999; ids of real segmentations are far younger than year 1000 anyway.
  if (year < 1000) return `'${text}': the year must be 1000 or later`;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return `'${text}' is not a valid date and time`;
  }
  let offsetMinutes = 0;
  if (zone!.toUpperCase() !== 'Z') {
    const z = zone!.replace(':', '');
    const hours = Number(z.slice(1, 3));
    const minutes = Number(z.slice(3, 5));
    if (hours > 23 || minutes > 59) return `'${text}' has an invalid zone offset`;
    offsetMinutes = (z.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return BigInt(ms - offsetMinutes * 60_000) * 1000n + BigInt(frac.padEnd(6, '0'));
}

/** Microseconds since the epoch as ISO 8601 UTC with 6 fraction digits (what PostgreSQL stores). */
export function isoFromMicros(micros: bigint): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const rest = micros - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString(); // 2024-03-02T12:00:00.123Z
  return `${iso.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

/** Parses one data line (`line` is its 1-based number in the file, for the message). */
export function parseRootLine(text: string, line: number): LineResult {
  const fail = (code: RootTableProblemCode, message: string): LineResult => ({ ok: false, problem: { line, code, message: `line ${line}: ${message}` } });
  const fields = splitLine(text);
  if (fields.length !== ROOT_TABLE_COLUMNS.length) return fail('FIELD_COUNT', `expected ${ROOT_TABLE_COLUMNS.length} fields (${ROOT_TABLE_COLUMNS.join(',')}), found ${fields.length}`);
  const [svText, rootText, fromText, untilText] = fields as [string, string, string, string];
  const supervoxelId = parseUint64(svText);
  if (typeof supervoxelId === 'string') return fail('BAD_ID', `supervoxel_id ${supervoxelId}`);
  const rootId = parseUint64(rootText);
  if (typeof rootId === 'string') return fail('BAD_ID', `root_id ${rootId}`);
  if (supervoxelId === 0n) return fail('ZERO_ID', 'supervoxel_id 0 is the background and has no root');
  if (rootId === 0n) return fail('ZERO_ID', 'root_id 0 is the background, not a root');
  if (fromText === '') return fail('BAD_TIME', 'valid_from is empty; every mapping starts at some time');
  const validFrom = parseTimestamp(fromText);
  if (typeof validFrom === 'string') return fail('BAD_TIME', `valid_from ${validFrom}`);
  let validUntil: bigint | null = null;
  if (untilText !== '') {
    const parsed = parseTimestamp(untilText);
    if (typeof parsed === 'string') return fail('BAD_TIME', `valid_until ${parsed}`);
    if (parsed <= validFrom) return fail('EMPTY_INTERVAL', `valid_until (${untilText}) must be after valid_from (${fromText})`);
    validUntil = parsed;
  }
  return { ok: true, row: { supervoxelId, rootId, validFrom, validUntil } };
}

/** Whether a line carries nothing (blank lines are skipped, e.g. the one a trailing newline leaves). */
export const isBlankLine = (text: string): boolean => text.trim() === '';

/** Escapes nothing: every field of a mapping is digits, a sign, or an ISO time. */
const copyTime = (micros: bigint | null): string => (micros === null ? '\\N' : isoFromMicros(micros));

/**
 * The row as a line of `COPY … FROM STDIN` text format (tab-separated, `\N` for NULL): line number, then the
 * ids as the signed bigints PostgreSQL stores (decode.ts), then the times.
 */
export const copyTextLine = (line: number, row: RootMapping): string =>
  `${line}\t${uint64ToPg(row.supervoxelId)}\t${uint64ToPg(row.rootId)}\t${copyTime(row.validFrom)}\t${copyTime(row.validUntil)}\n`;

/** At most this many problems are listed; the count says how many there were. */
export const MAX_LISTED_PROBLEMS = 100;

/**
 * Collects the problems of a file as it is read: keeps the first MAX_LISTED_PROBLEMS, counts them all, so a
 * file that is wrong on every line still gets a short answer.
 */
export class ProblemList {
  readonly listed: RootTableProblem[] = [];
  count = 0;
  add(problem: RootTableProblem): void {
    this.count++;
    if (this.listed.length < MAX_LISTED_PROBLEMS) this.listed.push(problem);
  }
  get empty(): boolean {
    return this.count === 0;
  }
}

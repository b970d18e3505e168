// Reading a frozen table page by page: the root-id filter, keyset pagination with an opaque cursor, the SQL of
// a page, and each row's values as JSON or CSV shows them. Pure.
//
// Only plain identifiers (quoteIdent) are written into the SQL; root ids, the cursor position and the row
// limit are bind parameters. uint64 ids leave as decimal strings (a JSON number loses precision past 2^53),
// bigint annotation ids too.
import { createHash } from 'node:crypto';
import { TWO_64, uint64FromPg, uint64ToPg } from '../decode.ts';
import { quoteIdent } from '../schemas.ts';
import { csvLine } from '../csv.ts';
import { isRootIdColumn, isUint64IdColumn } from './tables.ts';

export const DEFAULT_PAGE_ROWS = 1000;
export const MAX_PAGE_ROWS = 10_000;
export const MAX_ROOT_IDS = 1000;

export class QueryInputError extends Error {
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'QueryInputError';
  }
}

/** A cursor that is malformed or from another query. */
export class InvalidCursorError extends QueryInputError {}

/** `rootIds=1,2,3`: decimal uint64s (0 ≤ id < 2^64), at most MAX_ROOT_IDS, duplicates ignored. */
export function parseRootIds(text: string): bigint[] {
  const parts = text.split(',').map((p) => p.trim());
  const bad = parts.filter((p) => !/^\d{1,20}$/.test(p) || BigInt(p) >= TWO_64);
  if (bad.length > 0) throw new QueryInputError('rootIds must be comma-separated decimal uint64 ids', { invalid: bad.slice(0, 10) });
  const ids = [...new Set(parts.map(BigInt))];
  if (ids.length > MAX_ROOT_IDS) throw new QueryInputError(`at most ${MAX_ROOT_IDS} root ids per request, got ${ids.length}`);
  return ids;
}

// ---- the cursor: where the next page starts, bound to the query it came from ----

/** Identifies a query (version, table, filter): a cursor is only valid for the query that made it. */
export function queryScope(datastack: string, version: number, table: string, rootIds: readonly bigint[]): string {
  const filter = [...rootIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(',');
  return createHash('sha256').update(`${datastack}\n${version}\n${table}\n${filter}`).digest('base64url').slice(0, 12);
}

export function encodeCursor(afterId: bigint, scope: string): string {
  return Buffer.from(JSON.stringify({ after: afterId.toString(), scope })).toString('base64url');
}

/** The id a cursor continues after; a cursor that is malformed or from another query is an InvalidCursorError. */
export function decodeCursor(cursor: string, scope: string): bigint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not one this API returned');
  }
  const { after, scope: s } = (parsed ?? {}) as { after?: unknown; scope?: unknown };
  if (typeof after !== 'string' || !/^-?\d{1,19}$/.test(after) || typeof s !== 'string') throw new InvalidCursorError('cursor is not one this API returned');
  if (s !== scope) throw new InvalidCursorError('cursor belongs to another query (version, table or rootIds differ)');
  const id = BigInt(after);
  if (id < -(2n ** 63n) || id >= 2n ** 63n) throw new InvalidCursorError('cursor is not one this API returned');
  return id;
}

// ---- the page query ----

export interface PageQueryInput {
  schema: string;
  table: string;
  columns: readonly string[];
  rootIds: readonly bigint[];
  afterId?: bigint;
  /** Rows to select: the page's rows plus one that tells whether another page follows. */
  rows: number;
}

/** `SELECT … WHERE (root1 = ANY($1) OR root2 = ANY($1)) AND id > $2 ORDER BY id LIMIT $3`. */
export function pageQuery(input: PageQueryInput): { text: string; values: unknown[] } {
  if (!input.columns.includes('id')) throw new Error(`${input.table} has no id column`);
  const values: unknown[] = [];
  const where: string[] = [];
  if (input.rootIds.length > 0) {
    const rootColumns = input.columns.filter(isRootIdColumn);
    if (rootColumns.length === 0) throw new QueryInputError(`table ${input.table} has no root id column to filter on`);
    values.push(input.rootIds.map((id) => uint64ToPg(id).toString()));
    where.push(`(${rootColumns.map((c) => `${quoteIdent(c)} = ANY($${values.length}::bigint[])`).join(' OR ')})`);
  }
  if (input.afterId !== undefined) {
    values.push(input.afterId.toString());
    where.push(`"id" > $${values.length}::bigint`);
  }
  values.push(input.rows);
  const text =
    `SELECT ${input.columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(input.schema)}.${quoteIdent(input.table)}` +
    `${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY "id" LIMIT $${values.length}`;
  return { text, values };
}

// ---- rows out ----

export type CellValue = string | number | boolean | null;

/**
 * Turns rows as node-postgres returns them in array mode (bigint as text) into output values: uint64 ids as
 * their unsigned decimal, other bigints as text, everything else as is.
 */
export function rowConverter(columns: readonly string[]): (row: readonly unknown[]) => CellValue[] {
  const uint64 = columns.map(isUint64IdColumn);
  return (row) =>
    row.map((v, i) => {
      if (v === null || v === undefined) return null;
      if (uint64[i]) return uint64FromPg(v as string).toString();
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
      return String(v);
    });
}

export type PageFormat = 'json' | 'csv';

/**
 * Writes a page piece by piece as rows arrive: `open()`, `row(values)` per row, `close(nextCursor)`. JSON is
 * `{ "rows": [{column: value}], "nextCursor": string | null }`; CSV is a header line and one line per row (the
 * cursor travels in a response header).
 */
export function pageWriter(format: PageFormat, columns: readonly string[]) {
  if (format === 'csv') {
    return {
      open: (): string => csvLine(columns),
      row: (values: readonly CellValue[], _index: number): string => csvLine(values),
      close: (_next: string | null): string => '',
    };
  }
  const keys = columns.map((c) => `${JSON.stringify(c)}:`);
  return {
    open: (): string => '{"rows":[',
    row: (values: readonly CellValue[], index: number): string =>
      `${index === 0 ? '' : ','}{${values.map((v, i) => `${keys[i]}${JSON.stringify(v)}`).join(',')}}`,
    close: (next: string | null): string => `],"nextCursor":${JSON.stringify(next)}}`,
  };
}

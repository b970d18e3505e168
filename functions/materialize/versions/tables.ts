// The tables of a frozen version: which live tables are versioned, the merged columns of each, and the SQL that
// copies, re-indexes and freezes it. Pure: the columns come in from the catalog, SQL goes out.
//
// An annotation table T of a datastack is versioned when its segmentation table T__seg exists (every schema of
// schemas.ts has one); other tables of the live schema (the upload ledger, bookkeeping of the segmentation
// refresh) are not. The frozen table is T's columns followed by T__seg's columns except `id`, joined on id
// (a LEFT JOIN: an annotation whose segmentation row is missing keeps NULL ids, as in the live tables).
import { indexName, quoteIdent, SEGMENTATION_SUFFIX } from '../schemas.ts';

export interface LiveColumn {
  readonly name: string;
  /** As PostgreSQL's format_type prints it, e.g. `bigint`, `double precision`. */
  readonly sqlType: string;
  readonly notNull: boolean;
}

export interface FrozenColumn extends LiveColumn {
  readonly from: 'annotation' | 'segmentation';
}

/**
 * Supervoxel and root ids are uint64s stored as bigint bits (decode.ts); schemas.ts names every segmentation id
 * `<point>_supervoxel_id` or `<point>_root_id`, and nothing else so.
 */
export const isUint64IdColumn = (name: string): boolean => /_(supervoxel|root)_id$/.test(name);
export const isRootIdColumn = (name: string): boolean => name.endsWith('_root_id');

/** The annotation tables among a live schema's table names: those with a segmentation table, sorted. */
export function versionedTables(tableNames: readonly string[]): string[] {
  const names = new Set(tableNames);
  return tableNames.filter((t) => !t.includes('__') && names.has(`${t}${SEGMENTATION_SUFFIX}`)).sort();
}

/** The columns of T's frozen table: T's, then T__seg's without its id. */
export function frozenColumns(table: string, annotation: readonly LiveColumn[], segmentation: readonly LiveColumn[]): FrozenColumn[] {
  if (!annotation.some((c) => c.name === 'id')) throw new Error(`${table} has no id column`);
  if (!segmentation.some((c) => c.name === 'id')) throw new Error(`${table}${SEGMENTATION_SUFFIX} has no id column`);
  const own = new Set(annotation.map((c) => c.name));
  const clash = segmentation.filter((c) => c.name !== 'id' && own.has(c.name)).map((c) => c.name);
  if (clash.length > 0) throw new Error(`${table} and ${table}${SEGMENTATION_SUFFIX} both have column(s) ${clash.join(', ')}`);
  return [
    ...annotation.map((c): FrozenColumn => ({ ...c, from: 'annotation' })),
    // NULL where the segmentation row is missing, so never NOT NULL here.
    ...segmentation.filter((c) => c.name !== 'id').map((c): FrozenColumn => ({ ...c, notNull: false, from: 'segmentation' })),
  ];
}

const qualified = (schema: string, table: string): string => `${quoteIdent(schema)}.${quoteIdent(table)}`;

/** Column types come from the catalog; still, only the shapes format_type prints for plain types pass. */
function sqlType(type: string): string {
  if (!/^[a-z][a-z0-9 ]*(\(\d+(,\d+)?\))?(\[\])?$/.test(type)) throw new Error(`unexpected column type ${JSON.stringify(type)}`);
  return type;
}

export function createFrozenTableSql(schema: string, table: string, columns: readonly FrozenColumn[]): string {
  const cols = columns.map((c) => `${quoteIdent(c.name)} ${sqlType(c.sqlType)}${c.notNull ? ' NOT NULL' : ''}`);
  return `CREATE TABLE ${qualified(schema, table)} (${cols.join(', ')})`;
}

/** Copies the live rows into the frozen table, in id order (keyset pages then read the table in file order). */
export function copyIntoFrozenTableSql(schema: string, liveSchema: string, table: string, columns: readonly FrozenColumn[]): string {
  const target = columns.map((c) => quoteIdent(c.name)).join(', ');
  const source = columns.map((c) => `${c.from === 'annotation' ? 'a' : 's'}.${quoteIdent(c.name)}`).join(', ');
  return (
    `INSERT INTO ${qualified(schema, table)} (${target}) SELECT ${source} FROM ${qualified(liveSchema, table)} a ` +
    `LEFT JOIN ${qualified(liveSchema, `${table}${SEGMENTATION_SUFFIX}`)} s ON s."id" = a."id" ORDER BY a."id"`
  );
}

/**
 * The indexes of a frozen table, as a bulk upload builds them on the live tables (schemas.ts indexDefinitions):
 * the primary key on id, a btree per position (x, y, z) and per supervoxel or root id column. Derived from the
 * columns rather than copied from the live tables, which have none while an upload is loading.
 */
export function frozenIndexSql(schema: string, table: string, columns: readonly FrozenColumn[]): string[] {
  const names = new Set(columns.map((c) => c.name));
  const t = qualified(schema, table);
  const out = [`ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(indexName(table, 'pkey'))} PRIMARY KEY ("id")`];
  for (const c of columns) {
    const position = /^(.+)_x$/.exec(c.name)?.[1];
    if (position && names.has(`${position}_y`) && names.has(`${position}_z`)) {
      const cols = ['x', 'y', 'z'].map((a) => quoteIdent(`${position}_${a}`)).join(', ');
      out.push(`CREATE INDEX ${quoteIdent(indexName(table, `${position}_idx`))} ON ${t} (${cols})`);
    } else if (isUint64IdColumn(c.name)) {
      out.push(`CREATE INDEX ${quoteIdent(indexName(table, `${c.name}_idx`))} ON ${t} (${quoteIdent(c.name)})`);
    }
  }
  return out;
}

/**
 * Makes the frozen table read-only (see migrations/0004_versions.sql): the trigger refuses every write, whoever
 * the writer; the revoke also takes the write privileges from the owner, which is what holds for a non-superuser
 * owner (Aurora's master user) even before the trigger.
 */
export function freezeTableSql(schema: string, table: string): string[] {
  const t = qualified(schema, table);
  return [
    `CREATE TRIGGER frozen_version_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION public.reject_write_to_frozen_version()`,
    `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${t} FROM PUBLIC, CURRENT_USER`,
  ];
}

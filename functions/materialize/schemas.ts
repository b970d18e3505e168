// Annotation schemas (synapse, point), their PostgreSQL tables, and the validation of a bulk upload's column
// mapping against the `.npy` headers: the load plan, or every problem at once. Nothing is written before this
// passes. Pure.
//
// Tables. An upload into table T fills two tables, as CAVE does: the annotation table `T` (id, positions, size)
// and its segmentation table `T__seg` (id plus the supervoxel and root ids of each point), which the
// segmentation refresh rewrites while the annotations stay put. Both have one row per annotation, so a missing
// supervoxel id is a NULL in `T__seg`. `__` is reserved for such derived names (and frozen versions later), so a
// table name may not contain it, and must leave room for the suffix.
//
// Positions: three `integer` columns `<name>_x`, `<name>_y`, `<name>_z`, not `integer[]` or an extension type.
// Voxel coordinates fit int32; fixed-width columns cost 12 bytes (an array costs a ~24-byte header more and is
// not fixed-width), can be NOT NULL individually, are range-filtered and indexed by plain btree on (x, y, z),
// and encode trivially in binary COPY. PostGIS (what CAVE uses) is not installable on the local cloud.
//
// dtype → column rules: decode.ts (conversionFor). uint64 ids are stored as bigint bits: decode.ts.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { conversionFor, type Conversion, type TargetType } from './decode.ts';
import { checkObjectSize, NpyError, type NpyHeader } from './npy.ts';

export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
export const SEGMENTATION_SUFFIX = '__seg';
export const MAX_TABLE_NAME = 63 - SEGMENTATION_SUFFIX.length;

export const isIdentifier = (name: string): boolean => IDENTIFIER.test(name);

/** `"name"` for a plain identifier; anything else throws (names never reach SQL unchecked). */
export function quoteIdent(name: string): string {
  if (!isIdentifier(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export const segmentationTableName = (table: string): string => `${table}${SEGMENTATION_SUFFIX}`;

export type TableRole = 'annotation' | 'segmentation';

export interface SchemaColumn {
  /** The name a column mapping uses. */
  name: string;
  table: TableRole;
  /** A position is 3 integers; everything else is one value. */
  kind: 'id' | 'position' | 'float' | 'segmentation_id';
  required: boolean;
}

export interface AnnotationSchema {
  name: string;
  columns: readonly SchemaColumn[];
}

const id: SchemaColumn = { name: 'id', table: 'annotation', kind: 'id', required: true };
const position = (name: string, required: boolean): SchemaColumn => ({ name, table: 'annotation', kind: 'position', required });
const segId = (name: string): SchemaColumn => ({ name, table: 'segmentation', kind: 'segmentation_id', required: false });

export const SCHEMAS: Readonly<Record<string, AnnotationSchema>> = {
  synapse: {
    name: 'synapse',
    columns: [
      id,
      position('pre_pt_position', true),
      position('ctr_pt_position', false),
      position('post_pt_position', true),
      { name: 'size', table: 'annotation', kind: 'float', required: false },
      segId('pre_pt_supervoxel_id'),
      segId('post_pt_supervoxel_id'),
      segId('pre_pt_root_id'),
      segId('post_pt_root_id'),
    ],
  },
  point: {
    name: 'point',
    columns: [id, position('pt_position', true), segId('pt_supervoxel_id'), segId('pt_root_id')],
  },
};

const KIND: Record<SchemaColumn['kind'], { target: TargetType; sqlType: string; width: 1 | 3 }> = {
  id: { target: 'int8', sqlType: 'bigint', width: 1 },
  position: { target: 'int4', sqlType: 'integer', width: 3 },
  float: { target: 'float8', sqlType: 'double precision', width: 1 },
  segmentation_id: { target: 'uint64', sqlType: 'bigint', width: 1 },
};

/** The PostgreSQL columns a schema column becomes: `name`, or `name_x`, `name_y`, `name_z` for a position. */
export function pgColumnNames(column: SchemaColumn): string[] {
  return column.kind === 'position' ? ['x', 'y', 'z'].map((a) => `${column.name}_${a}`) : [column.name];
}

export interface PgColumnDef {
  name: string;
  sqlType: string;
  notNull: boolean;
  target: TargetType;
}

/** The PostgreSQL columns of one of a schema's tables; the segmentation table starts with the annotation id. */
export function tableColumns(schema: AnnotationSchema, role: TableRole): PgColumnDef[] {
  const cols = schema.columns.filter((c) => c.table === role || c.kind === 'id');
  return cols.flatMap((c) =>
    pgColumnNames(c).map((name) => ({ name, sqlType: KIND[c.kind].sqlType, notNull: c.required || c.kind === 'id', target: KIND[c.kind].target })),
  );
}

/** The column mapping of a synapse table exported as .npy files the usual way (one file per field). */
export const SYNAPSE_NPY_MAPPING: Readonly<Record<string, string | readonly string[]>> = {
  id: 'id',
  presyn_coords: 'pre_pt_position',
  center_coords: 'ctr_pt_position',
  postsyn_coords: 'post_pt_position',
  sizes: 'size',
  sv_ids_ordered: ['pre_pt_supervoxel_id', 'post_pt_supervoxel_id'],
  root_ids_ordered: ['pre_pt_root_id', 'post_pt_root_id'],
};

export const hasSegmentation = (schema: AnnotationSchema): boolean => schema.columns.some((c) => c.table === 'segmentation');

/** A column of a COPY: its values come from column `arrayColumn` of file `file`. */
export interface CopyColumn {
  name: string;
  target: TargetType;
  file: string;
  arrayColumn: number;
  conversion: Conversion;
}

export interface TablePlan {
  role: TableRole;
  name: string;
  /** Every column of the table, for CREATE TABLE. */
  columns: PgColumnDef[];
  /** The columns the COPY fills, in COPY order; the others (unmapped optional ones) stay NULL. */
  copyColumns: CopyColumn[];
}

export interface LoadPlan {
  schema: string;
  rows: number;
  /** The annotation table, then (if the schema has one) its segmentation table. */
  tables: TablePlan[];
  /** The mapped files, with their headers; files under the prefix that the mapping does not name are ignored. */
  files: { name: string; header: NpyHeader }[];
}

export type ProblemCode =
  | 'UNKNOWN_SCHEMA'
  | 'INVALID_IDENTIFIER'
  | 'EMPTY_MAPPING'
  | 'MISSING_FILE'
  | 'UNKNOWN_COLUMN'
  | 'DUPLICATE_COLUMN'
  | 'MISSING_COLUMN'
  | 'WIDTH_MISMATCH'
  | 'INCOMPATIBLE_DTYPE'
  | 'LENGTH_MISMATCH'
  /** The table exists with other columns (checked against the database, not here). */
  | 'TABLE_MISMATCH'
  | NpyError['code'];

export interface Problem {
  code: ProblemCode;
  message: string;
  file?: string;
  column?: string;
}

/** A file under the upload prefix: its name without `.npy`, and its parsed header or why it could not be read. */
export type NpyFileInfo = { name: string; objectSize: number; header: NpyHeader } | { name: string; error: NpyError };

export const columnMappingSchema = z.record(z.string().min(1), z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]));
export type ColumnMapping = z.infer<typeof columnMappingSchema>;

export interface ValidateInput {
  schema: string;
  table: string;
  columnMapping: Readonly<Record<string, string | readonly string[]>>;
  files: readonly NpyFileInfo[];
}

export type ValidateResult = { ok: true; plan: LoadPlan } | { ok: false; problems: Problem[] };

const shapeText = (h: NpyHeader) => (h.shape.length === 1 ? `(${h.rows},)` : `(${h.rows}, ${h.columns})`);

/** Checks a bulk upload against its files' headers and returns the load plan, or every problem found. */
export function validateMapping(input: ValidateInput): ValidateResult {
  const problems: Problem[] = [];
  const schema = Object.hasOwn(SCHEMAS, input.schema) ? SCHEMAS[input.schema] : undefined;
  if (!schema) problems.push({ code: 'UNKNOWN_SCHEMA', message: `unknown schema '${input.schema}' (known: ${Object.keys(SCHEMAS).join(', ')})` });

  const { table } = input;
  if (!isIdentifier(table) || table.length > MAX_TABLE_NAME || table.includes('__')) {
    problems.push({
      code: 'INVALID_IDENTIFIER',
      message: `table name ${JSON.stringify(table)} must match ${IDENTIFIER.source}, be at most ${MAX_TABLE_NAME} characters and not contain '__'`,
    });
  }

  const entries = Object.entries(input.columnMapping);
  if (entries.length === 0) problems.push({ code: 'EMPTY_MAPPING', message: 'the column mapping is empty' });

  const files = new Map(input.files.map((f) => [f.name, f]));
  const byName = new Map((schema?.columns ?? []).map((c) => [c.name, c]));
  const mappedFrom = new Map<string, string>(); // schema column → file
  const sources = new Map<string, { file: string; arrayColumn: number; conversion: Conversion }>(); // pg column → source
  const good: { name: string; header: NpyHeader }[] = [];

  for (const [fileName, target] of entries) {
    const targets = typeof target === 'string' ? [target] : [...target];
    const columns: SchemaColumn[] = [];
    for (const name of targets) {
      if (!isIdentifier(name)) {
        problems.push({ code: 'INVALID_IDENTIFIER', message: `column name ${JSON.stringify(name)} is not a plain identifier`, file: fileName, column: name });
        continue;
      }
      const col = byName.get(name);
      if (!col) {
        if (schema) problems.push({ code: 'UNKNOWN_COLUMN', message: `schema '${schema.name}' has no column '${name}'`, file: fileName, column: name });
        continue;
      }
      const earlier = mappedFrom.get(name);
      if (earlier !== undefined) {
        problems.push({ code: 'DUPLICATE_COLUMN', message: `column '${name}' is mapped twice (from '${earlier}' and '${fileName}')`, file: fileName, column: name });
        continue;
      }
      mappedFrom.set(name, fileName);
      columns.push(col);
    }

    const file = files.get(fileName);
    if (!file) {
      problems.push({ code: 'MISSING_FILE', message: `the mapping names '${fileName}', but there is no ${fileName}.npy under the prefix`, file: fileName });
      continue;
    }
    if ('error' in file) {
      problems.push({ code: file.error.code, message: `${fileName}.npy: ${file.error.message}`, file: fileName });
      continue;
    }
    const { header } = file;
    try {
      checkObjectSize(header, file.objectSize);
    } catch (e) {
      if (!(e instanceof NpyError)) throw e;
      problems.push({ code: e.code, message: `${fileName}.npy: ${e.message}`, file: fileName });
      continue;
    }
    good.push({ name: fileName, header });
    if (columns.length !== targets.length) continue; // a bad name above: width and dtype checks would only add noise

    const width = columns.reduce((sum, c) => sum + KIND[c.kind].width, 0);
    if (width !== header.columns || (header.shape.length === 1 && width !== 1)) {
      problems.push({
        code: 'WIDTH_MISMATCH',
        message: `${fileName}.npy has shape ${shapeText(header)}, but [${targets.join(', ')}] needs ${width === 1 ? '(N,)' : `(N, ${width})`}`,
        file: fileName,
      });
      continue;
    }
    let arrayColumn = 0;
    for (const col of columns) {
      const { target: t } = KIND[col.kind];
      const conversion = conversionFor(header.dtype.name, t);
      if (conversion === undefined) {
        problems.push({
          code: 'INCOMPATIBLE_DTYPE',
          message: `${fileName}.npy holds ${header.dtype.name}, which cannot go into '${col.name}' (${t === 'uint64' ? 'a uint64 id' : KIND[col.kind].sqlType})`,
          file: fileName,
          column: col.name,
        });
        arrayColumn += KIND[col.kind].width;
        continue;
      }
      for (const pgName of pgColumnNames(col)) sources.set(pgName, { file: fileName, arrayColumn: arrayColumn++, conversion });
    }
  }

  for (const col of schema?.columns ?? []) {
    if (col.required && !mappedFrom.has(col.name)) {
      problems.push({ code: 'MISSING_COLUMN', message: `column '${col.name}' is required by schema '${schema!.name}' and no file is mapped to it`, column: col.name });
    }
  }

  const lengths = new Set(good.map((f) => f.header.rows));
  if (lengths.size > 1) {
    problems.push({
      code: 'LENGTH_MISMATCH',
      message: `the arrays have different lengths: ${good.map((f) => `${f.name}.npy ${f.header.rows}`).join(', ')}`,
    });
  }

  if (problems.length > 0 || !schema) return { ok: false, problems };

  const roles: TableRole[] = hasSegmentation(schema) ? ['annotation', 'segmentation'] : ['annotation'];
  const tables = roles.map((role): TablePlan => {
    const columns = tableColumns(schema, role);
    const copyColumns = columns.flatMap((c): CopyColumn[] => {
      const source = sources.get(c.name);
      return source ? [{ name: c.name, target: c.target, ...source }] : [];
    });
    return { role, name: role === 'annotation' ? table : segmentationTableName(table), columns, copyColumns };
  });
  return { ok: true, plan: { schema: schema.name, rows: good[0]?.header.rows ?? 0, tables, files: good } };
}

// ---------------------------------------------------------------------------------------------------------------
// DDL: the tables, and the indexes a bulk load drops before and rebuilds after.

export function createTableSql(table: Pick<TablePlan, 'name' | 'columns'>, { ifNotExists = false } = {}): string {
  const cols = table.columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}${c.notNull ? ' NOT NULL' : ''}`);
  return `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${quoteIdent(table.name)} (${cols.join(', ')})`;
}

/** `<table>_<suffix>`, or, when that exceeds 63 characters, a truncation plus 8 hex digits of its SHA-1. */
export function indexName(table: string, suffix: string): string {
  const full = `${table}_${suffix}`;
  if (full.length <= 63) return full;
  return `${full.slice(0, 54)}_${createHash('sha1').update(full).digest('hex').slice(0, 8)}`;
}

export interface IndexDef {
  name: string;
  /** CREATE statement; drop with `DROP INDEX IF EXISTS "<name>"` (or the constraint, for the primary key). */
  sql: string;
  primaryKey: boolean;
}

/**
 * The indexes of a table after a load: the primary key on id; per position a btree on (x, y, z); per root id a
 * btree (the refresh and version reads filter on root ids); supervoxel ids are looked up by the refresh too.
 */
export function indexDefinitions(schema: AnnotationSchema, table: Pick<TablePlan, 'name' | 'role'>): IndexDef[] {
  const t = quoteIdent(table.name);
  const pkey = indexName(table.name, 'pkey');
  const defs: IndexDef[] = [{ name: pkey, sql: `ALTER TABLE ${t} ADD CONSTRAINT ${quoteIdent(pkey)} PRIMARY KEY ("id")`, primaryKey: true }];
  for (const c of schema.columns.filter((col) => col.table === table.role && col.kind !== 'id')) {
    if (c.kind === 'float') continue;
    const name = indexName(table.name, `${c.name}_idx`);
    const cols = pgColumnNames(c).map(quoteIdent).join(', ');
    defs.push({ name, sql: `CREATE INDEX ${quoteIdent(name)} ON ${t} (${cols})`, primaryKey: false });
  }
  return defs;
}

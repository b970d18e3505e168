// One generic repository for every catalog table. Each entity is described once by a TableDef (its columns
// and their types); the repository builds the SQL from it and maps snake_case rows to camelCase objects.
import type pg from 'pg';
import { db as pool } from '../lib/pg.ts';
import { ident, toCamel, toSnake } from '../lib/sql-names.ts';

export type ColumnType = 'text' | 'uuid' | 'numeric' | 'integer' | 'bigint' | 'date' | 'timestamptz' | 'uuid[]';

export interface TableDef {
  /** PostgreSQL table name. */
  readonly table: string;
  /** What the API calls one row, for messages: "season 1234 does not exist". */
  readonly label: string;
  /** Columns besides id, created_at and updated_at, snake_case → type. */
  readonly columns: Readonly<Record<string, ColumnType>>;
  /** Columns that are written but never returned (e.g. a key hash). */
  readonly hidden?: readonly string[];
  /** Read-only values computed per row: name → SQL expression over the row alias `t`. */
  readonly computed?: Readonly<Record<string, { readonly type: ColumnType; readonly sql: string }>>;
}

/** A pool or a connection inside a transaction. */
export type Db = pg.Pool | pg.PoolClient;

export type Row = Record<string, unknown>;

/** Restricts reads to the rows granted to one client, e.g. seasons through client_season. */
export interface ClientScope {
  readonly table: string;
  readonly column: string;
  readonly clientId: string;
}

export interface ListOptions {
  readonly limit: number;
  readonly cursor?: string;
  /** camelCase column → value; undefined values are ignored. */
  readonly filters?: Readonly<Record<string, unknown>>;
  readonly scope?: ClientScope;
}

export interface Page {
  readonly items: Row[];
  readonly nextCursor: string | null;
}

const META: Readonly<Record<string, ColumnType>> = { id: 'uuid', created_at: 'timestamptz', updated_at: 'timestamptz' };

/** The SELECT expression for a column: numbers come back as JS numbers, dates as YYYY-MM-DD, timestamps as ISO strings. */
export function selectExpression(sql: string, type: ColumnType): string {
  switch (type) {
    case 'numeric':
    case 'bigint':
      return `(${sql})::float8`;
    case 'date':
      return `to_char(${sql}, 'YYYY-MM-DD')`;
    case 'timestamptz':
      // ISO 8601 in UTC with PostgreSQL's full microseconds: updatedAt feeds cache keys, and two updates
      // within one millisecond must not look the same (a JS Date would keep only milliseconds).
      return `to_char((${sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
    default:
      return sql;
  }
}

/** A row from PostgreSQL (snake_case, already selected through selectExpression) → the API's camelCase object. */
export function decodeRow(row: Row, types: Readonly<Record<string, ColumnType>>): Row {
  const out: Row = {};
  for (const [column, type] of Object.entries(types)) {
    const value = row[column];
    out[toCamel(column)] = value instanceof Date && type === 'timestamptz' ? value.toISOString() : (value ?? null);
  }
  return out;
}

/** camelCase values → [column, value] pairs; a key that is not a writable column is a programming error. */
export function encodeValues(def: TableDef, values: Readonly<Record<string, unknown>>): [string, unknown][] {
  const pairs: [string, unknown][] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const column = toSnake(key);
    if (!(column in def.columns)) throw new Error(`${def.table} has no column ${column} (from ${key})`);
    pairs.push([column, value]);
  }
  return pairs;
}

export class Repository {
  private readonly visible: Readonly<Record<string, ColumnType>>;
  private readonly selectList: string;

  constructor(readonly def: TableDef) {
    const hidden = new Set(def.hidden ?? []);
    const visible: Record<string, ColumnType> = { ...META };
    const parts = Object.keys(META).map((c) => `t.${ident(c)}`);
    for (const [column, type] of Object.entries(def.columns)) {
      if (hidden.has(column)) continue;
      visible[column] = type;
      parts.push(`${selectExpression(`t.${ident(column)}`, type)} AS ${ident(column)}`);
    }
    for (const [name, { type, sql }] of Object.entries(def.computed ?? {})) {
      visible[name] = type;
      parts.push(`${selectExpression(`(${sql})`, type)} AS ${ident(name)}`);
    }
    this.visible = visible;
    this.selectList = parts.join(', ');
  }

  private from(): string {
    return `FROM ${ident(this.def.table)} t`;
  }

  private static scopeCondition(scope: ClientScope, values: unknown[]): string {
    values.push(scope.clientId);
    return `t.id IN (SELECT ${ident(scope.column)} FROM ${ident(scope.table)} WHERE client_id = $${values.length})`;
  }

  decode(row: Row): Row {
    return decodeRow(row, this.visible);
  }

  async get(id: string, opts: { scope?: ClientScope; db?: Db } = {}): Promise<Row | undefined> {
    const values: unknown[] = [id];
    const where = ['t.id = $1'];
    if (opts.scope) where.push(Repository.scopeCondition(opts.scope, values));
    const conn = opts.db ?? (await pool());
    const { rows } = await conn.query<Row>(`SELECT ${this.selectList} ${this.from()} WHERE ${where.join(' AND ')}`, values);
    return rows[0] ? this.decode(rows[0]) : undefined;
  }

  /** Keyset pagination in id order: the cursor is the last id of the previous page. */
  async list(opts: ListOptions, conn?: Db): Promise<Page> {
    const values: unknown[] = [];
    const where: string[] = [];
    for (const [column, value] of encodeValues(this.def, opts.filters ?? {})) {
      values.push(value);
      where.push(`t.${ident(column)} = $${values.length}`);
    }
    if (opts.cursor) {
      values.push(opts.cursor);
      where.push(`t.id > $${values.length}`);
    }
    if (opts.scope) where.push(Repository.scopeCondition(opts.scope, values));
    values.push(opts.limit + 1);
    const sql =
      `SELECT ${this.selectList} ${this.from()}` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY t.id LIMIT $${values.length}`;
    const { rows } = await (conn ?? (await pool())).query<Row>(sql, values);
    const more = rows.length > opts.limit;
    const items = rows.slice(0, opts.limit).map((r) => this.decode(r));
    return { items, nextCursor: more ? (items[items.length - 1]!.id as string) : null };
  }

  /** Inserts one row and returns its id (omitted values take the column defaults). */
  async insertId(values: Readonly<Record<string, unknown>>, conn?: Db): Promise<string> {
    const pairs = encodeValues(this.def, values);
    const sql = pairs.length
      ? `INSERT INTO ${ident(this.def.table)} (${pairs.map(([c]) => ident(c)).join(', ')}) ` +
        `VALUES (${pairs.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`
      : `INSERT INTO ${ident(this.def.table)} DEFAULT VALUES RETURNING id`;
    const { rows } = await (conn ?? (await pool())).query<{ id: string }>(sql, pairs.map(([, v]) => v));
    return rows[0]!.id;
  }

  async insert(values: Readonly<Record<string, unknown>>, conn?: Db): Promise<Row> {
    const c = conn ?? (await pool());
    const id = await this.insertId(values, c);
    return (await this.get(id, { db: c }))!;
  }

  /** Updates the given columns; false when no row has this id. No values: nothing is written. */
  async updateById(id: string, values: Readonly<Record<string, unknown>>, conn?: Db): Promise<boolean> {
    const pairs = encodeValues(this.def, values);
    const c = conn ?? (await pool());
    if (!pairs.length) return (await c.query('SELECT 1 FROM ' + ident(this.def.table) + ' WHERE id = $1', [id])).rowCount === 1;
    const sets = pairs.map(([column], i) => `${ident(column)} = $${i + 2}`).join(', ');
    const result = await c.query(`UPDATE ${ident(this.def.table)} SET ${sets} WHERE id = $1`, [id, ...pairs.map(([, v]) => v)]);
    return result.rowCount === 1;
  }

  async update(id: string, values: Readonly<Record<string, unknown>>, conn?: Db): Promise<Row | undefined> {
    const c = conn ?? (await pool());
    if (!(await this.updateById(id, values, c))) return undefined;
    return this.get(id, { db: c });
  }

  /** true when a row was deleted. */
  async delete(id: string, conn?: Db): Promise<boolean> {
    const result = await (conn ?? (await pool())).query(`DELETE FROM ${ident(this.def.table)} WHERE id = $1`, [id]);
    return result.rowCount === 1;
  }
}

// ---- relations (composite-key link tables) ----

export interface RelationDef {
  readonly table: string;
  /** The owner side (path `{id}`), e.g. client_id → client. */
  readonly owner: { readonly column: string; readonly table: string; readonly label: string };
  /** The target side (the second path parameter), e.g. detectable_id → detectable. */
  readonly target: { readonly column: string; readonly table: string; readonly label: string };
  /** Further columns set by PUT (e.g. a game team's side). */
  readonly extra?: Readonly<Record<string, ColumnType>>;
}

export class RelationRepository {
  private readonly types: Readonly<Record<string, ColumnType>>;
  private readonly selectList: string;

  constructor(readonly def: RelationDef) {
    this.types = {
      [def.owner.column]: 'uuid',
      [def.target.column]: 'uuid',
      ...def.extra,
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    };
    this.selectList = Object.entries(this.types)
      .map(([c, type]) => `${selectExpression(ident(c), type)} AS ${ident(c)}`)
      .join(', ');
  }

  async ownerExists(ownerId: string, conn?: Db): Promise<boolean> {
    const c = conn ?? (await pool());
    return (await c.query(`SELECT 1 FROM ${ident(this.def.owner.table)} WHERE id = $1`, [ownerId])).rowCount === 1;
  }

  async list(ownerId: string, conn?: Db): Promise<Row[]> {
    const { rows } = await (conn ?? (await pool())).query<Row>(
      `SELECT ${this.selectList} FROM ${ident(this.def.table)} WHERE ${ident(this.def.owner.column)} = $1 ` +
        `ORDER BY created_at, ${ident(this.def.target.column)}`,
      [ownerId],
    );
    return rows.map((r) => decodeRow(r, this.types));
  }

  async get(ownerId: string, targetId: string, conn?: Db): Promise<Row | undefined> {
    const { rows } = await (conn ?? (await pool())).query<Row>(
      `SELECT ${this.selectList} FROM ${ident(this.def.table)} WHERE ${ident(this.def.owner.column)} = $1 AND ${ident(this.def.target.column)} = $2`,
      [ownerId, targetId],
    );
    return rows[0] ? decodeRow(rows[0], this.types) : undefined;
  }

  /**
   * Creates the link, or updates its extra columns. Writes nothing when the link already exists as asked,
   * so repeating a PUT neither changes the row nor fires the touch triggers.
   */
  async put(ownerId: string, targetId: string, extra: Readonly<Record<string, unknown>> = {}, conn?: Db): Promise<Row> {
    const c = conn ?? (await pool());
    const extraColumns = Object.keys(this.def.extra ?? {});
    const columns = [this.def.owner.column, this.def.target.column, ...extraColumns];
    const values = [ownerId, targetId, ...extraColumns.map((col) => extra[toCamel(col)])];
    const conflict = `(${ident(this.def.owner.column)}, ${ident(this.def.target.column)})`;
    const onConflict = extraColumns.length
      ? `DO UPDATE SET ${extraColumns.map((col) => `${ident(col)} = EXCLUDED.${ident(col)}`).join(', ')} ` +
        `WHERE (${extraColumns.map((col) => `${ident(this.def.table)}.${ident(col)}`).join(', ')}) ` +
        `IS DISTINCT FROM (${extraColumns.map((col) => `EXCLUDED.${ident(col)}`).join(', ')})`
      : 'DO NOTHING';
    await c.query(
      `INSERT INTO ${ident(this.def.table)} (${columns.map(ident).join(', ')}) ` +
        `VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT ${conflict} ${onConflict}`,
      values,
    );
    return (await this.get(ownerId, targetId, c))!;
  }

  /** true when a link was deleted. */
  async remove(ownerId: string, targetId: string, conn?: Db): Promise<boolean> {
    const result = await (conn ?? (await pool())).query(
      `DELETE FROM ${ident(this.def.table)} WHERE ${ident(this.def.owner.column)} = $1 AND ${ident(this.def.target.column)} = $2`,
      [ownerId, targetId],
    );
    return result.rowCount === 1;
  }
}

// From the decoded columns of a chunk's files to the values of one table's COPY, converted exactly (the typed-array
// form of what chunk-copy.ts writes straight from the bytes), and the COPY statement of a table. Pure.
import { convertColumn, type DecodedColumn, type PgValues } from '../decode.ts';
import { quoteIdent, type CopyColumn, type TablePlan } from '../schemas.ts';

/** One copy column's decoded values converted to its type; a ConversionError names file, column and row. */
function convertCopyColumn(table: Pick<TablePlan, 'name'>, c: CopyColumn, column: DecodedColumn, firstRow: number): PgValues {
  return convertColumn(column, c.target, { column: `${c.file}.npy → ${table.name}.${c.name}`, firstRow });
}

/**
 * The COPY values of `table` for one chunk: for each of its copyColumns, column `arrayColumn` of the decoded
 * chunk of `file`, converted to the column's type (throws ConversionError for a value that does not fit).
 */
export function tableChunkValues(table: TablePlan, decoded: ReadonlyMap<string, readonly DecodedColumn[]>, firstRow: number): PgValues[] {
  return table.copyColumns.map((c) => {
    const column = decoded.get(c.file)?.[c.arrayColumn];
    if (!column) throw new Error(`no decoded column ${c.arrayColumn} of ${c.file}.npy for ${table.name}.${c.name}`);
    return convertCopyColumn(table, c, column, firstRow);
  });
}

/** `COPY "t" ("a", "b") FROM STDIN (FORMAT binary)` for the table's copyColumns. */
export function copyFromSql(table: Pick<TablePlan, 'name' | 'copyColumns'>): string {
  return `COPY ${quoteIdent(table.name)} (${table.copyColumns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN (FORMAT binary)`;
}

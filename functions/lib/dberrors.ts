// PostgreSQL constraint violations → API errors. The statement failed, so nothing changed; the client gets
// a 4xx that says which constraint and which values, instead of a 500.
import { AppError, badRequest, conflict } from './errors.ts';
import { toCamel } from './sql-names.ts';

interface PgError {
  code: string;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

export function isPgError(err: unknown): err is PgError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((err as { code: string }).code) && 'severity' in err;
}

/** `Key (a, b)=(x, y) ...` → { fields: ['a', 'b'], values: 'x, y' }; expression keys like lower(name) → name. */
export function parseKeyDetail(detail: string | undefined): { fields: string[]; value: string | null } {
  const m = /^Key \((.+?)\)=\((.*)\)/.exec(detail ?? '');
  if (!m) return { fields: [], value: null };
  const fields = m[1]!.split(',').map((f) => toCamel(f.trim().replace(/^\w+\((\w+)\)$/, '$1')));
  return { fields, value: m[2]! };
}

const referencedTable = (detail: string | undefined): string | null =>
  /(?:in|from) table "([^"]+)"/.exec(detail ?? '')?.[1] ?? null;

/** Returns the AppError for a constraint violation, or undefined when `err` is something else. */
export function fromPgError(err: unknown): AppError | undefined {
  if (!isPgError(err)) return undefined;
  const { fields, value } = parseKeyDetail(err.detail);
  switch (err.code) {
    case '23503': {
      const other = referencedTable(err.detail);
      if (/is still referenced/.test(err.detail ?? '')) {
        // deleting (or re-keying) a row that others still reference: ON DELETE RESTRICT
        return conflict(`${err.table ?? 'the row'} is still referenced from ${other ?? 'another table'}`, {
          constraint: err.constraint ?? null,
          referencedBy: other,
        });
      }
      // inserting or updating with a reference to a row that does not exist
      return new AppError(400, 'InvalidReference', `${fields.join(', ') || 'a reference'} ${value ?? ''} does not exist`.replace(/\s+/g, ' ').trim(), {
        constraint: err.constraint ?? null,
        fields,
        value,
        references: other,
      });
    }
    case '23505':
      return conflict(`a ${err.table ?? 'row'} with this ${fields.join(', ') || 'key'} already exists`, {
        constraint: err.constraint ?? null,
        fields,
        value,
      });
    case '23514':
      return badRequest(`the values violate the rule ${err.constraint ?? '(check)'}`, { constraint: err.constraint ?? null });
    case '23502':
      return badRequest(`${err.column ? toCamel(err.column) : 'a value'} is required`, { field: err.column ? toCamel(err.column) : null });
    case '22P02': // invalid text representation
    case '22003': // numeric value out of range
    case '22007': // invalid datetime format
    case '22008': // datetime field overflow
    case '22021': // character not in repertoire (a NUL byte in text)
    case '22P05': // untranslatable character (\u0000 in jsonb)
      return badRequest('a value is not valid for its field', { sqlstate: err.code });
    default:
      return undefined;
  }
}

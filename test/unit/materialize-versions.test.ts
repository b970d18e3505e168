// Frozen versions, the pure parts: names, cadences and expiry, the retention policy, the frozen tables' SQL,
// the read API's query building, cursor, row values and CSV, and how the topology wires the schedules.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initialSteps, materializeVersionJobId } from '../../functions/jobs/job.ts';
import { csvField, csvLine } from '../../functions/materialize/csv.ts';
import { SCHEMAS, tableColumns } from '../../functions/materialize/schemas.ts';
import {
  decodeCursor,
  encodeCursor,
  MAX_ROOT_IDS,
  pageQuery,
  pageWriter,
  parseRootIds,
  QueryInputError,
  queryScope,
  rowConverter,
} from '../../functions/materialize/versions/query.ts';
import {
  copyIntoFrozenTableSql,
  createFrozenTableSql,
  freezeTableSql,
  frozenColumns,
  frozenIndexSql,
  isRootIdColumn,
  isUint64IdColumn,
  versionedTables,
  type LiveColumn,
} from '../../functions/materialize/versions/tables.ts';
import {
  cadencePeriod,
  expiresAt,
  expiryDaysFor,
  parseVersionSchemaName,
  versionSchemaName,
  versionsToRemove,
  type VersionLife,
} from '../../functions/materialize/versions/lifecycle.ts';
import { topology } from '../../infra/topology.ts';

const DAY = 86_400_000;

describe('version names', () => {
  it('gives each version its own schema, which no live datastack schema can be', () => {
    expect(versionSchemaName('minnie65', 1)).toBe('dsv_minnie65__v1');
    expect(versionSchemaName('a__v1', 2)).toBe('dsv_a__v1__v2');
    expect(parseVersionSchemaName('dsv_a__v1__v2')).toEqual({ datastack: 'a__v1', version: 2 });
    expect(parseVersionSchemaName('dsv_minnie65__v12')).toEqual({ datastack: 'minnie65', version: 12 });
    for (const other of ['ds_minnie65', 'ds_minnie65__v1', 'dsv_minnie65', 'dsv_minnie65__v0', 'dsv_minnie65__v01', 'dsv_Minnie__v1']) {
      expect(parseVersionSchemaName(other), other).toBeUndefined();
    }
    expect(versionSchemaName('a'.repeat(40), 2_147_483_647).length).toBeLessThanOrEqual(63);
    for (const bad of ['', 'A', '1a', 'a-b', 'x"; DROP']) expect(() => versionSchemaName(bad, 1), bad).toThrow();
    for (const bad of [0, -1, 1.5, 2 ** 31]) expect(() => versionSchemaName('a', bad), String(bad)).toThrow(RangeError);
  });

  it('names a version job by its datastack and, for a schedule, the period', () => {
    expect(materializeVersionJobId('minnie65', 'daily-2026-11-22')).toBe('version-minnie65-daily-2026-11-22');
    expect(Object.keys(initialSteps('materialize-version'))).toEqual(['create-version']);
  });
});

describe('cadences and expiry', () => {
  it('maps each cadence to the days its versions live, unless asked otherwise', () => {
    expect(expiryDaysFor('manual')).toBe(5);
    expect(expiryDaysFor('manual', 12)).toBe(12);
    expect(expiryDaysFor('daily')).toBe(2);
    expect(expiryDaysFor('weekly')).toBe(7);
    expect(expiryDaysFor('monthly')).toBe(30);
    expect(expiryDaysFor('daily', 3)).toBe(3);
    expect(expiryDaysFor('weekly', undefined, { daily: 1, weekly: 14, monthly: 90 })).toBe(14);
    for (const bad of [0, -1, 1.5, 3651]) expect(() => expiryDaysFor('manual', bad), String(bad)).toThrow(RangeError);
    expect(expiresAt(new Date('2026-11-22T05:00:00Z'), 2)).toEqual(new Date('2026-11-24T05:00:00Z'));
  });

  it('names the period a scheduled version stands for (UTC; ISO weeks)', () => {
    expect(cadencePeriod('daily', new Date('2026-11-22T23:59:59Z'))).toBe('2026-11-22');
    expect(cadencePeriod('monthly', new Date('2026-11-22T05:00:00Z'))).toBe('2026-11');
    expect(cadencePeriod('weekly', new Date('2026-11-22T05:00:00Z'))).toBe('2026-W47'); // a Sunday
    expect(cadencePeriod('weekly', new Date('2026-11-23T05:00:00Z'))).toBe('2026-W48'); // the Monday after
    expect(cadencePeriod('weekly', new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53'); // a Friday: still 2026's last week
    expect(cadencePeriod('weekly', new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01'); // a Monday: already 2025's first
    expect(cadencePeriod('weekly', new Date('2026-01-01T12:00:00Z'))).toBe('2026-W01'); // a Thursday
  });
});

describe('retention policy', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const v = (version: number, expiresInDays: number, state: VersionLife['state'] = 'valid'): VersionLife => ({
    version,
    state,
    expiresAt: new Date(now.getTime() + expiresInDays * DAY),
  });

  it('drops expired versions, oldest first', () => {
    const versions = [v(1, -3), v(2, -2), v(3, 1), v(4, -1), v(5, 2), v(6, 3), v(7, 4), v(8, 5)];
    expect(versionsToRemove(versions, now, 5)).toEqual([1, 2, 4]);
  });

  it('never goes below `keep` valid versions, and keeps the newest expired ones first', () => {
    const versions = [v(1, -6), v(2, 10), v(3, -5), v(4, -4), v(5, -3), v(6, -2)];
    expect(versionsToRemove(versions, now, 3)).toEqual([1, 3, 4]);
    expect(versionsToRemove(versions, now, 5)).toEqual([1]);
    expect(versionsToRemove(versions, now, 6)).toEqual([]);
    expect(versionsToRemove(versions.slice(0, 3), now, 5)).toEqual([]);
  });

  it('always keeps the newest valid version, even expired and with keep 1', () => {
    const versions = [v(1, -6), v(2, -5), v(3, -4)];
    expect(versionsToRemove(versions, now, 1)).toEqual([1, 2]);
    expect(versionsToRemove([v(1, -1)], now, 1)).toEqual([]);
  });

  it('counts only valid versions, and a version expiring exactly now is expired', () => {
    const versions = [v(1, -2), v(2, -2, 'failed'), v(3, -2, 'expired'), v(4, 0), v(5, 1), v(6, -1, 'building')];
    // valid: 1, 4, 5 — the newest valid is 5; 1 and 4 expired
    expect(versionsToRemove(versions, now, 1)).toEqual([1, 4]);
    expect(versionsToRemove(versions, now, 2)).toEqual([1]);
    expect(versionsToRemove([], now, 1)).toEqual([]);
    // input order does not matter
    expect(versionsToRemove([...versions].reverse(), now, 1)).toEqual([1, 4]);
    for (const bad of [0, -1, 1.5]) expect(() => versionsToRemove(versions, now, bad), String(bad)).toThrow(RangeError);
  });
});

describe('frozen tables', () => {
  const live = (role: 'annotation' | 'segmentation'): LiveColumn[] =>
    tableColumns(SCHEMAS.synapse!, role).map((c) => ({ name: c.name, sqlType: c.sqlType, notNull: c.notNull }));

  it('versions every table with a segmentation table, and nothing else', () => {
    expect(versionedTables(['synapses', 'synapses__seg', 'bulk_chunk_ledger', 'cells', 'cells__seg', 'orphan', 'x__seg', 'a__b', 'a__b__seg'])).toEqual(['cells', 'synapses']);
  });

  it("merges T's columns with T__seg's ids, and names every segmentation id as a uint64 id", () => {
    const columns = frozenColumns('synapses', live('annotation'), live('segmentation'));
    expect(columns.map((c) => c.name)).toEqual([
      'id', 'pre_pt_position_x', 'pre_pt_position_y', 'pre_pt_position_z', 'ctr_pt_position_x', 'ctr_pt_position_y', 'ctr_pt_position_z',
      'post_pt_position_x', 'post_pt_position_y', 'post_pt_position_z', 'size',
      'pre_pt_supervoxel_id', 'post_pt_supervoxel_id', 'pre_pt_root_id', 'post_pt_root_id',
    ]);
    expect(columns.filter((c) => c.from === 'segmentation').every((c) => !c.notNull)).toBe(true);
    expect(columns.find((c) => c.name === 'id')).toMatchObject({ notNull: true, from: 'annotation' });
    // The naming rule the read API relies on holds for every schema.
    for (const schema of Object.values(SCHEMAS)) {
      for (const c of schema.columns) expect(isUint64IdColumn(c.name), c.name).toBe(c.kind === 'segmentation_id');
    }
    expect(['pre_pt_root_id', 'pt_root_id'].every(isRootIdColumn)).toBe(true);
    expect(['pre_pt_supervoxel_id', 'root', 'id'].some(isRootIdColumn)).toBe(false);
    expect(() => frozenColumns('t', [{ name: 'x', sqlType: 'bigint', notNull: true }], live('segmentation'))).toThrow(/no id/);
    expect(() => frozenColumns('t', [...live('annotation'), { name: 'pre_pt_root_id', sqlType: 'bigint', notNull: false }], live('segmentation'))).toThrow(/both/);
  });

  it('creates, copies (in id order, a LEFT JOIN on id), re-indexes and freezes with plain identifiers only', () => {
    const columns = frozenColumns('synapses', live('annotation'), live('segmentation'));
    expect(createFrozenTableSql('dsv_m__v1', 'synapses', columns)).toMatch(
      /^CREATE TABLE "dsv_m__v1"\."synapses" \("id" bigint NOT NULL, "pre_pt_position_x" integer NOT NULL, .* "size" double precision, "pre_pt_supervoxel_id" bigint, .*"post_pt_root_id" bigint\)$/,
    );
    const copy = copyIntoFrozenTableSql('dsv_m__v1', 'ds_m', 'synapses', columns);
    expect(copy).toContain('INSERT INTO "dsv_m__v1"."synapses" ("id", "pre_pt_position_x"');
    expect(copy).toContain('SELECT a."id", a."pre_pt_position_x"');
    expect(copy).toContain('s."post_pt_root_id" FROM "ds_m"."synapses" a LEFT JOIN "ds_m"."synapses__seg" s ON s."id" = a."id" ORDER BY a."id"');
    expect(frozenIndexSql('dsv_m__v1', 'synapses', columns)).toEqual([
      'ALTER TABLE "dsv_m__v1"."synapses" ADD CONSTRAINT "synapses_pkey" PRIMARY KEY ("id")',
      'CREATE INDEX "synapses_pre_pt_position_idx" ON "dsv_m__v1"."synapses" ("pre_pt_position_x", "pre_pt_position_y", "pre_pt_position_z")',
      'CREATE INDEX "synapses_ctr_pt_position_idx" ON "dsv_m__v1"."synapses" ("ctr_pt_position_x", "ctr_pt_position_y", "ctr_pt_position_z")',
      'CREATE INDEX "synapses_post_pt_position_idx" ON "dsv_m__v1"."synapses" ("post_pt_position_x", "post_pt_position_y", "post_pt_position_z")',
      'CREATE INDEX "synapses_pre_pt_supervoxel_id_idx" ON "dsv_m__v1"."synapses" ("pre_pt_supervoxel_id")',
      'CREATE INDEX "synapses_post_pt_supervoxel_id_idx" ON "dsv_m__v1"."synapses" ("post_pt_supervoxel_id")',
      'CREATE INDEX "synapses_pre_pt_root_id_idx" ON "dsv_m__v1"."synapses" ("pre_pt_root_id")',
      'CREATE INDEX "synapses_post_pt_root_id_idx" ON "dsv_m__v1"."synapses" ("post_pt_root_id")',
    ]);
    const freeze = freezeTableSql('dsv_m__v1', 'synapses');
    expect(freeze[0]).toMatch(/BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "dsv_m__v1"\."synapses" FOR EACH STATEMENT EXECUTE FUNCTION public\.reject_write_to_frozen_version\(\)/);
    expect(freeze[1]).toBe('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "dsv_m__v1"."synapses" FROM PUBLIC, CURRENT_USER');
    expect(() => createFrozenTableSql('dsv_m__v1', 'x"; DROP TABLE y; --', columns)).toThrow(/identifier/);
    expect(() => createFrozenTableSql('dsv_m__v1', 't', [{ name: 'id', sqlType: 'bigint; DROP TABLE y', notNull: true, from: 'annotation' }])).toThrow(/type/);
  });
});

describe('reading a version', () => {
  it('parses root ids: decimal uint64s up to 2^64 − 1, deduplicated, bounded', () => {
    expect(parseRootIds('1,2, 18446744073709551615,2')).toEqual([1n, 2n, 2n ** 64n - 1n]);
    expect(parseRootIds('0')).toEqual([0n]);
    for (const bad of ['', 'a', '1,,2', '-1', '18446744073709551616', '1.5', '0x10', '1;DROP', '123456789012345678901']) {
      expect(() => parseRootIds(bad), bad).toThrow(QueryInputError);
    }
    const many = Array.from({ length: MAX_ROOT_IDS + 1 }, (_, i) => i).join(',');
    expect(() => parseRootIds(many)).toThrow(/at most/);
  });

  it('filters on every root id column with one bound array, pages by id, binds everything but identifiers', () => {
    const columns = ['id', 'size', 'pre_pt_supervoxel_id', 'pre_pt_root_id', 'post_pt_root_id'];
    const q = pageQuery({ schema: 'dsv_m__v1', table: 'synapses', columns, rootIds: [5n, 2n ** 64n - 1n], afterId: -7n, rows: 11 });
    expect(q.text).toBe(
      'SELECT "id", "size", "pre_pt_supervoxel_id", "pre_pt_root_id", "post_pt_root_id" FROM "dsv_m__v1"."synapses" ' +
        'WHERE ("pre_pt_root_id" = ANY($1::bigint[]) OR "post_pt_root_id" = ANY($1::bigint[])) AND "id" > $2::bigint ORDER BY "id" LIMIT $3',
    );
    // uint64 ids go in as the signed bigint PostgreSQL stores.
    expect(q.values).toEqual([['5', '-1'], '-7', 11]);
    const all = pageQuery({ schema: 's', table: 't', columns: ['id'], rootIds: [], rows: 3 });
    expect(all).toEqual({ text: 'SELECT "id" FROM "s"."t" ORDER BY "id" LIMIT $1', values: [3] });
    expect(() => pageQuery({ schema: 's', table: 't', columns: ['id', 'size'], rootIds: [1n], rows: 3 })).toThrow(QueryInputError);
    expect(() => pageQuery({ schema: 's', table: 't', columns: ['size'], rootIds: [], rows: 3 })).toThrow(/no id/);
  });

  it('hands out opaque cursors that only continue the query they came from', () => {
    const scope = queryScope('m', 3, 'synapses', [2n, 1n]);
    expect(queryScope('m', 3, 'synapses', [1n, 2n])).toBe(scope);
    expect(queryScope('m', 4, 'synapses', [1n, 2n])).not.toBe(scope);
    expect(queryScope('m', 3, 'cells', [1n, 2n])).not.toBe(scope);
    expect(queryScope('m', 3, 'synapses', [1n])).not.toBe(scope);
    for (const id of [0n, -(2n ** 63n), 2n ** 63n - 1n, 123n]) expect(decodeCursor(encodeCursor(id, scope), scope)).toBe(id);
    const cursor = encodeCursor(42n, scope);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(() => decodeCursor(cursor, queryScope('m', 3, 'synapses', []))).toThrow(/another query/);
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of ['', 'not-a-cursor', forge({ after: '1e3', scope }), forge({ after: 5, scope }), forge({ after: '9223372036854775808', scope }), forge(null)]) {
      expect(() => decodeCursor(bad, scope), bad).toThrow(QueryInputError);
    }
  });

  it('shows uint64 ids unsigned and every bigint as a decimal string', () => {
    const convert = rowConverter(['id', 'size', 'pre_pt_position_x', 'pre_pt_supervoxel_id', 'pre_pt_root_id', 'post_pt_root_id']);
    expect(convert(['-5', 0.5, -3, '-1', '864691135000000000', null])).toEqual(['-5', 0.5, -3, '18446744073709551615', '864691135000000000', null]);
    expect(convert(['9223372036854775807', null, 0, '-9223372036854775808', '0', '1'])).toEqual(['9223372036854775807', null, 0, '9223372036854775808', '0', '1']);
  });

  it('writes a JSON page piece by piece', () => {
    const w = pageWriter('json', ['id', 'pre_pt_root_id', 'size']);
    const text = w.open() + w.row(['1', '18446744073709551615', 0.25], 0) + w.row(['2', null, -1], 1) + w.close('abc');
    expect(JSON.parse(text)).toEqual({
      rows: [
        { id: '1', pre_pt_root_id: '18446744073709551615', size: 0.25 },
        { id: '2', pre_pt_root_id: null, size: -1 },
      ],
      nextCursor: 'abc',
    });
    const empty = pageWriter('json', ['id']);
    expect(JSON.parse(empty.open() + empty.close(null))).toEqual({ rows: [], nextCursor: null });
  });

  it('writes CSV: a header, CRLF lines, ids ≥ 2^63 as decimals, NULL empty, quoting only where needed', () => {
    const w = pageWriter('csv', ['id', 'pre_pt_root_id', 'size']);
    const text = w.open() + w.row(['1', '9223372036854775808', 0.1], 0) + w.row(['2', null, 1e21], 1) + w.close('ignored');
    expect(text).toBe('id,pre_pt_root_id,size\r\n1,9223372036854775808,0.1\r\n2,,1e+21\r\n');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(csvLine(['', true, -0.5])).toBe(',true,-0.5\r\n');
  });
});

describe('topology: versions', () => {
  const fn = (name: string) => topology.functions.find((f) => f.name === name)!;

  it('runs periodic materialization daily, weekly and monthly with the expiry days of the settings', () => {
    const schedules = fn('materialize-schedule-versions').triggers.flatMap((t) => (t.kind === 'schedule' ? [t] : []));
    expect(schedules.map((t) => [t.name, t.input])).toEqual([
      ['materialize-daily-version', { cadence: 'daily', expiresInDays: topology.settings.versionExpiryDays.daily }],
      ['materialize-weekly-version', { cadence: 'weekly', expiresInDays: topology.settings.versionExpiryDays.weekly }],
      ['materialize-monthly-version', { cadence: 'monthly', expiresInDays: topology.settings.versionExpiryDays.monthly }],
    ]);
    expect(topology.settings.versionExpiryDays).toEqual({ daily: 2, weekly: 7, monthly: 30 });
    const removal = fn('materialize-expire-versions').triggers[0]!;
    expect(removal).toMatchObject({ kind: 'schedule', input: { keepVersions: topology.settings.keepVersions } });
    expect(topology.settings.keepVersions).toBe(5);
  });

  it('grants each version function only what it uses', () => {
    expect(fn('materialize-create-version').uses).toEqual({ tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true });
    expect(fn('materialize-expire-versions').uses).toEqual({ postgres: true });
    expect(fn('materialize-schedule-versions').uses.stateMachines).toEqual(['materialize']);
    for (const name of ['materialize-api', 'jobs-api', 'jobs-sweeper']) {
      expect(fn(name).uses.stateMachines).toContain('materialize-version');
      expect(fn(name).uses.stateMachines).toContain('materialize');
    }
  });

  it('the workflow creates the version, then records the outcome on the job', () => {
    const asl = JSON.parse(readFileSync('statemachines/materialize-version.asl.json', 'utf8'));
    expect(asl.StartAt).toBe('CreateVersion');
    expect(asl.States.CreateVersion.Next).toBe('RecordSuccess');
    expect(asl.States.CreateVersion.Catch[0].Next).toBe('RecordFailure');
    expect(asl.States.RecordSuccess.Parameters).toMatchObject({ outcome: 'succeeded', 'result.$': '$.created' });
  });
});

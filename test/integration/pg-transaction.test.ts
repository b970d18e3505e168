// transaction() (functions/lib/pg.ts) against the local cloud's PostgreSQL: a transaction runs at the isolation level
// and in the mode asked for; what the work did is committed when it returns and rolled back whole when it throws; and
// on a connection the caller holds it keeps the connection's session state and leaves the connection to the caller.
import type pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';

Object.assign(process.env, localAdminEnvironment(inject('endpoints')));
const { closeDb, db, query, transaction } = await import('../../functions/lib/pg.ts');

const TABLE = `tx_${Date.now().toString(36)}${process.pid}`;

afterAll(async () => {
  await query(`DROP TABLE IF EXISTS ${TABLE}`);
  await closeDb();
});

const modes = async (c: pg.ClientBase) =>
  (await c.query<{ isolation: string; readOnly: string }>(`SELECT current_setting('transaction_isolation') AS isolation, current_setting('transaction_read_only') AS "readOnly"`))
    .rows[0];

describe('transaction()', () => {
  it('runs at the isolation level and in the mode asked for: read committed and read-write unless asked', async () => {
    expect(await transaction(modes)).toEqual({ isolation: 'read committed', readOnly: 'off' });
    expect(await transaction(modes, { isolation: 'repeatable read' })).toEqual({ isolation: 'repeatable read', readOnly: 'off' });
    expect(await transaction(modes, { isolation: 'serializable', readOnly: true })).toEqual({ isolation: 'serializable', readOnly: 'on' });
    expect(await transaction(modes, { readOnly: true })).toEqual({ isolation: 'read committed', readOnly: 'on' });
    // 25006: read_only_sql_transaction
    await expect(transaction((c) => c.query(`CREATE TABLE ${TABLE}_never (x integer)`), { readOnly: true })).rejects.toMatchObject({ code: '25006' });
    expect(await query('SELECT to_regclass($1) AS t', [`${TABLE}_never`])).toEqual([{ t: null }]);
  });

  it('commits what the work did when it returns, and rolls all of it back when it throws', async () => {
    await transaction(async (c) => {
      await c.query(`CREATE TABLE ${TABLE} (x integer)`);
      await c.query(`INSERT INTO ${TABLE} VALUES (1)`);
    });
    const failed = transaction(async (c) => {
      await c.query(`INSERT INTO ${TABLE} VALUES (2)`);
      throw new Error('the work failed');
    });
    await expect(failed).rejects.toThrow('the work failed');
    expect(await query(`SELECT x FROM ${TABLE}`)).toEqual([{ x: 1 }]);
  });

  it('runs on a connection the caller holds, which keeps its session state and stays the caller\'s', async () => {
    const client = await (await db()).connect();
    try {
      await client.query('CREATE TEMPORARY TABLE held (x integer)');
      await transaction(
        async (c) => {
          expect(c).toBe(client);
          await c.query('INSERT INTO held VALUES (1)');
        },
        { client, isolation: 'repeatable read' },
      );
      const failed = transaction(
        async (c) => {
          await c.query('INSERT INTO held VALUES (2)');
          throw new Error('the work failed');
        },
        { client },
      );
      await expect(failed).rejects.toThrow('the work failed');
      expect((await client.query('SELECT x FROM held')).rows).toEqual([{ x: 1 }]);
      expect((await client.query(`SELECT current_setting('transaction_isolation') AS i`)).rows).toEqual([{ i: 'read committed' }]);
    } finally {
      client.release(); // throws if transaction() had released it
    }
  });
});

// platform-bootstrap, the function every deploy runs, against the shared test cloud's PostgreSQL (a database of its
// own, created empty) and its Secrets Manager (a secret of its own, as a deploy creates it); and `npm start`, which
// runs it before the API serves and keeps the admin key of a data folder from before the secret existed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashApiKey, isApiKeyForm } from '../../functions/lib/auth.ts';
import { SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import { closeDb } from '../../functions/lib/pg.ts';
import { handler } from '../../functions/platform/bootstrap.ts';
import { folderEnv, secretEnv, secretName } from '../../infra/topology.ts';
import { apiAt } from '../support/api.ts';
import { startCloudProcess } from '../support/child.ts';
import { ROOT } from '../support/processes.ts';

const endpoints = inject('endpoints');
const aws = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const secrets = new SecretsManagerClient({ ...aws, endpoint: endpoints.secretsmanager });
const database = `bootstrap_${randomBytes(4).toString('hex')}`;
const secretId = `framewise/test-${randomBytes(4).toString('hex')}/admin-api-key`;
const migrations = readdirSync(join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort();

const url = new URL(endpoints.postgres);
const server = new pg.Client({ connectionString: endpoints.postgres });
let db: pg.Client;
const scratch: string[] = [];

beforeAll(async () => {
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  url.pathname = `/${database}`;
  db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  // What both materializations give the function.
  Object.assign(process.env, {
    DATABASE_URL: url.toString(),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsmanager,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    [secretEnv('admin-api-key')]: secretId,
    [folderEnv('migrations')]: join(ROOT, 'migrations'),
  });
  await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: SECRET_NOT_SET }));
});

afterAll(async () => {
  await closeDb();
  await db?.end();
  await server.query(`DROP DATABASE IF EXISTS ${database}`);
  await server.end();
  secrets.destroy();
  scratch.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const secretValue = async (id = secretId) => (await secrets.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!;
const firstAdmins = async () => (await db.query<{ key_hash: string }>("SELECT key_hash FROM api_keys WHERE name = 'first admin'")).rows;

describe('platform-bootstrap', () => {
  it('two runs at once on an empty database: both succeed, the migrations are applied once, one admin key is made', async () => {
    const [a, b] = await Promise.all([handler(), handler()]);
    expect(migrations.length).toBeGreaterThan(0);
    expect([a.applied, b.applied]).toContainEqual(migrations);
    expect([a.applied, b.applied]).toContainEqual([]);
    expect([a.adminKeyCreated, b.adminKeyCreated].sort()).toEqual([false, true]);
    const recorded = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(recorded.rows.map((r) => r.name)).toEqual(migrations);

    const key = await secretValue();
    expect(isApiKeyForm(key)).toBe(true);
    expect(await firstAdmins()).toEqual([{ key_hash: hashApiKey(key) }]);
  });

  it('a second run changes nothing', async () => {
    const key = await secretValue();
    const keys = (await db.query('SELECT * FROM api_keys')).rows;
    expect(await handler()).toEqual({ applied: [], adminKeyCreated: false, adminKeyRowRestored: false });
    expect(await secretValue()).toBe(key);
    expect((await db.query('SELECT * FROM api_keys')).rows).toEqual(keys);
  });

  it('a database restored without the key: the row of the key in the secret comes back, no new key', async () => {
    const key = await secretValue();
    await db.query('DELETE FROM api_keys');
    expect(await handler()).toEqual({ applied: [], adminKeyCreated: false, adminKeyRowRestored: true });
    expect(await secretValue()).toBe(key);
    expect(await firstAdmins()).toEqual([{ key_hash: hashApiKey(key) }]);
  });

  it('a secret holding something else than a key or the placeholder: fails and changes nothing', async () => {
    const key = await secretValue();
    await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'hunter2' }));
    try {
      await expect(handler()).rejects.toThrow(`holds neither an admin API key nor '${SECRET_NOT_SET}'`);
      expect(await secretValue()).toBe('hunter2');
      expect(await firstAdmins()).toEqual([{ key_hash: hashApiKey(key) }]);
    } finally {
      await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: key }));
    }
  });
});

describe('npm start', () => {
  it('the shared cloud ran it: its admin key is the one in its secret', async () => {
    const key = inject('adminApiKey');
    expect(await secretValue(secretName('local', 'admin-api-key'))).toBe(key);
    const me = await apiAt(endpoints.api, key)('GET', '/v1/me');
    expect(me.body).toMatchObject({ role: 'admin' });
  });

  it('a data folder from before the secret existed keeps its admin key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'framewise-bootstrap-'));
    scratch.push(dir);
    const first = await startCloudProcess(dir);
    first.process.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    // As a data folder of an earlier version: the key in credentials.json and api_keys, no Secrets Manager data.
    rmSync(join(dir, 'secretsmanager'), { recursive: true });

    const second = await startCloudProcess(dir);
    try {
      expect(second.adminApiKey).toBe(first.adminApiKey);
      const local = new SecretsManagerClient({ ...aws, endpoint: second.endpoints.secretsmanager });
      expect((await local.send(new GetSecretValueCommand({ SecretId: secretName('local', 'admin-api-key') }))).SecretString).toBe(first.adminApiKey);
      local.destroy();
      expect((await apiAt(second.endpoints.api, second.adminApiKey)('GET', '/v1/me')).status).toBe(200);
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
  });
});

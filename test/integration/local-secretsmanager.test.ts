// The local cloud's Secrets Manager, through the real SDK client: the actions Framewise and `aws secretsmanager
// get-secret-value` use, AWS's error shapes, versions, and secrets kept on disk (0600 in a 0700 folder) across restarts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startSecretsManager } from '../../infra/local/secretsmanager.ts';

const aws = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const client = new SecretsManagerClient({ ...aws, endpoint: inject('endpoints').secretsmanager });
const name = () => `test/${randomBytes(4).toString('hex')}/secret`;
const scratch: string[] = [];
afterAll(() => {
  client.destroy();
  scratch.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('local Secrets Manager', () => {
  it('creates a secret and reads it by name, by ARN and by partial ARN', async () => {
    const n = name();
    const created = await client.send(new CreateSecretCommand({ Name: n, SecretString: 'first', Description: 'a test secret' }));
    expect(created.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${n}-[A-Za-z0-9]{6}$`));
    for (const id of [n, created.ARN!, created.ARN!.slice(0, -7)]) {
      const got = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(got).toMatchObject({ ARN: created.ARN, Name: n, SecretString: 'first', VersionId: created.VersionId, VersionStages: ['AWSCURRENT'] });
      expect(got.CreatedDate).toBeInstanceOf(Date);
    }
    const described = await client.send(new DescribeSecretCommand({ SecretId: n }));
    expect(described).toMatchObject({ ARN: created.ARN, Name: n, Description: 'a test secret', VersionIdsToStages: { [created.VersionId!]: ['AWSCURRENT'] } });
    const listed = await client.send(new ListSecretsCommand({}));
    expect(listed.SecretList?.map((s) => s.Name)).toContain(n);
  });

  it('puts a new value: it becomes AWSCURRENT, the one before AWSPREVIOUS; the same request twice makes one version', async () => {
    const n = name();
    const first = await client.send(new CreateSecretCommand({ Name: n, SecretString: 'one' }));
    const token = `token-${randomBytes(16).toString('hex')}`;
    const put = await client.send(new PutSecretValueCommand({ SecretId: n, SecretString: 'two', ClientRequestToken: token }));
    expect(put).toMatchObject({ Name: n, VersionId: token, VersionStages: ['AWSCURRENT'] });
    expect((await client.send(new PutSecretValueCommand({ SecretId: n, SecretString: 'two', ClientRequestToken: token }))).VersionId).toBe(token);
    await expect(client.send(new PutSecretValueCommand({ SecretId: n, SecretString: 'three', ClientRequestToken: token }))).rejects.toBeInstanceOf(ResourceExistsException);
    expect((await client.send(new GetSecretValueCommand({ SecretId: n }))).SecretString).toBe('two');
    const previous = await client.send(new GetSecretValueCommand({ SecretId: n, VersionStage: 'AWSPREVIOUS' }));
    expect(previous).toMatchObject({ SecretString: 'one', VersionId: first.VersionId });
    const described = await client.send(new DescribeSecretCommand({ SecretId: n }));
    expect(described.VersionIdsToStages).toEqual({ [first.VersionId!]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
  });

  it('answers errors as AWS does', async () => {
    const missing = await client.send(new GetSecretValueCommand({ SecretId: name() })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as Error).message).toBe("Secrets Manager can't find the specified secret.");
    expect((missing as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);

    const n = name();
    await client.send(new CreateSecretCommand({ Name: n }));
    const noValue = await client.send(new GetSecretValueCommand({ SecretId: n })).catch((e: unknown) => e);
    expect(noValue).toBeInstanceOf(ResourceNotFoundException);
    expect((noValue as Error).message).toContain('staging label: AWSCURRENT');
    await expect(client.send(new CreateSecretCommand({ Name: n, SecretString: 'x' }))).rejects.toBeInstanceOf(ResourceExistsException);
    await expect(client.send(new PutSecretValueCommand({ SecretId: name(), SecretString: 'x' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new CreateSecretCommand({ Name: 'bad name!' }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(client.send(new PutSecretValueCommand({ SecretId: n }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('keeps its secrets on disk, readable by its user only, across a restart', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'framewise-secrets-')), 'secretsmanager');
    scratch.push(dataDir);
    let server = await startSecretsManager({ dataDir, region: 'us-east-1', accountId: '000000000000' });
    let local = new SecretsManagerClient({ ...aws, endpoint: server.endpoint });
    const { ARN } = await local.send(new CreateSecretCommand({ Name: 'kept', SecretString: 'v1' }));
    await local.send(new PutSecretValueCommand({ SecretId: 'kept', SecretString: 'v2' }));
    // Acknowledged means written: the file is read back by a new server, not this one's memory.
    local.destroy();
    await server.stop();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'secrets.json')).mode & 0o777).toBe(0o600);

    server = await startSecretsManager({ dataDir, region: 'us-east-1', accountId: '000000000000' });
    local = new SecretsManagerClient({ ...aws, endpoint: server.endpoint });
    try {
      expect(await local.send(new GetSecretValueCommand({ SecretId: 'kept' }))).toMatchObject({ ARN, SecretString: 'v2' });
      expect(server.currentValue('kept')).toBe('v2');
      // Created once, as CloudFormation creates a resource: an existing secret keeps its value.
      expect(await server.ensureSecret('kept', 'placeholder')).toBe(ARN);
      expect(server.currentValue('kept')).toBe('v2');
    } finally {
      local.destroy();
      await server.stop();
    }
  });
});

// The local cloud's AWS Secrets Manager: the JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Action>`) on
// 127.0.0.1 for what Framewise and the `aws` CLI ask of it: CreateSecret, GetSecretValue, PutSecretValue,
// DescribeSecret, ListSecrets, with errors shaped as AWS shapes them. Secrets are kept in `<dataDir>/secrets.json`
// (0600, folder 0700), written and fsynced before the reply to every change. Versions and staging labels work
// as in AWS for AWSCURRENT and AWSPREVIOUS; there is no rotation, replication, resource policy or deletion.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makePrivateDir, PRIVATE_FILE, syncPath } from './files.ts';

export interface LocalSecretsManager {
  readonly endpoint: string;
  /** Creates the secret with `value` if no secret has that name (as CloudFormation does once); returns its ARN. */
  ensureSecret(name: string, value: string, description?: string): Promise<string>;
  /** The current string value of the secret named `name`, if it has one. */
  currentValue(name: string): string | undefined;
  stop(): Promise<void>;
}

interface Version {
  id: string;
  string?: string;
  /** base64, as the protocol carries it */
  binary?: string;
  stages: string[];
  created: number; // epoch ms
}

interface SecretRecord {
  arn: string;
  name: string;
  description?: string;
  created: number;
  changed: number;
  versions: Version[];
}

type Json = Record<string, unknown>;

class SecretsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_VALUE_BYTES = 65_536;
const seconds = (ms: number): number => ms / 1000;

const notFound = () => new SecretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const invalid = (message: string) => new SecretsError('InvalidParameterException', message);

function text(input: Json, key: string, required: true): string;
function text(input: Json, key: string, required?: false): string | undefined;
function text(input: Json, key: string, required = false): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) {
    if (required) throw new SecretsError('ValidationException', `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof value !== 'string') throw new SecretsError('ValidationException', `Value at '${key}' must be a string`);
  return value;
}

/** The value a request carries: exactly one of SecretString and SecretBinary. */
function valueOf(input: Json, required: boolean): Pick<Version, 'string' | 'binary'> | undefined {
  const string = text(input, 'SecretString');
  const binary = text(input, 'SecretBinary');
  if (string !== undefined && binary !== undefined) throw invalid('You can\'t specify both a binary secret value and a string secret value in the same secret.');
  if (string === undefined && binary === undefined) {
    if (required) throw invalid('You must provide either SecretString or SecretBinary.');
    return undefined;
  }
  const size = string !== undefined ? Buffer.byteLength(string) : Buffer.from(binary!, 'base64').length;
  if (size > MAX_VALUE_BYTES) throw invalid(`The secret value is larger than ${MAX_VALUE_BYTES} bytes.`);
  return string !== undefined ? { string } : { binary };
}

export async function startSecretsManager(opts: { dataDir: string; port?: number; region: string; accountId: string }): Promise<LocalSecretsManager> {
  makePrivateDir(opts.dataDir);
  const file = join(opts.dataDir, 'secrets.json');
  const secrets = new Map<string, SecretRecord>();
  const stored = await readFile(file, 'utf8').then(
    (t) => {
      try {
        return JSON.parse(t) as { secrets: SecretRecord[] };
      } catch (e) {
        throw new Error(`${file} is not valid JSON (${(e as Error).message}); move it away to start with no secrets`);
      }
    },
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return { secrets: [] };
      throw e;
    },
  );
  for (const s of stored.secrets) secrets.set(s.name, s);

  // Changes are written one after another; each reply waits for the write of its change, fsynced.
  let writing: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    const snapshot = JSON.stringify({ version: 1, secrets: [...secrets.values()] });
    writing = writing.catch(() => undefined).then(async () => {
      await writeFile(`${file}.tmp`, snapshot, { mode: PRIVATE_FILE });
      await syncPath(`${file}.tmp`);
      await rename(`${file}.tmp`, file);
      await syncPath(opts.dataDir);
    });
    return writing;
  };

  const arnOf = (name: string) =>
    `arn:aws:secretsmanager:${opts.region}:${opts.accountId}:secret:${name}-${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6)}`;

  /** By name, by ARN, or by ARN without its 6-character suffix (a partial ARN). */
  function find(id: string): SecretRecord {
    const byName = secrets.get(id);
    if (byName) return byName;
    for (const s of secrets.values()) if (s.arn === id || s.arn.slice(0, -7) === id) return s;
    throw notFound();
  }

  function addVersion(secret: SecretRecord, value: Pick<Version, 'string' | 'binary'>, token: string | undefined, stages = [CURRENT]): Version {
    const id = token ?? randomUUID();
    const existing = secret.versions.find((v) => v.id === id);
    if (existing) {
      if (existing.string === value.string && existing.binary === value.binary) return existing;
      throw new SecretsError('ResourceExistsException', "You can't modify an existing version, you can only create new versions.");
    }
    const now = Date.now();
    if (stages.includes(CURRENT)) {
      for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== PREVIOUS);
      for (const v of secret.versions) {
        if (v.stages.includes(CURRENT)) v.stages = [...v.stages.filter((s) => s !== CURRENT), PREVIOUS];
      }
    }
    for (const v of secret.versions) v.stages = v.stages.filter((s) => s === CURRENT || s === PREVIOUS || !stages.includes(s));
    const version: Version = { id, ...value, stages: [...stages], created: now };
    // Versions without a label are gone in AWS after a while; here at once.
    secret.versions = [...secret.versions.filter((v) => v.stages.length > 0), version];
    secret.changed = now;
    return version;
  }

  const describe = (s: SecretRecord): Json => ({
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined && { Description: s.description }),
    CreatedDate: seconds(s.created),
    LastChangedDate: seconds(s.changed),
    VersionIdsToStages: Object.fromEntries(s.versions.map((v) => [v.id, v.stages])),
  });

  async function createSecret(input: Json): Promise<Json> {
    const name = text(input, 'Name', true);
    if (!NAME.test(name)) throw invalid('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    const value = valueOf(input, false);
    if (secrets.has(name)) throw new SecretsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    const now = Date.now();
    const secret: SecretRecord = { arn: arnOf(name), name, description: text(input, 'Description'), created: now, changed: now, versions: [] };
    const version = value ? addVersion(secret, value, text(input, 'ClientRequestToken')) : undefined;
    secrets.set(name, secret);
    await persist();
    return { ARN: secret.arn, Name: name, ...(version && { VersionId: version.id }) };
  }

  function getSecretValue(input: Json): Json {
    const secret = find(text(input, 'SecretId', true));
    const versionId = text(input, 'VersionId');
    const stage = text(input, 'VersionStage') ?? (versionId ? undefined : CURRENT);
    const version = secret.versions.find((v) => (!versionId || v.id === versionId) && (!stage || v.stages.includes(stage)));
    if (!version) {
      throw new SecretsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage}`}`);
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(version.string !== undefined ? { SecretString: version.string } : { SecretBinary: version.binary }),
      VersionStages: version.stages,
      CreatedDate: seconds(version.created),
    };
  }

  async function putSecretValue(input: Json): Promise<Json> {
    const secret = find(text(input, 'SecretId', true));
    const value = valueOf(input, true)!;
    const stages = input.VersionStages === undefined ? undefined : (input.VersionStages as unknown[]);
    if (stages !== undefined && (!Array.isArray(stages) || stages.some((s) => typeof s !== 'string'))) throw invalid('VersionStages must be a list of strings.');
    const version = addVersion(secret, value, text(input, 'ClientRequestToken'), stages as string[] | undefined);
    await persist();
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages };
  }

  const actions: Record<string, (input: Json) => Json | Promise<Json>> = {
    CreateSecret: createSecret,
    GetSecretValue: getSecretValue,
    PutSecretValue: putSecretValue,
    DescribeSecret: (input) => describe(find(text(input, 'SecretId', true))),
    ListSecrets: () => ({ SecretList: [...secrets.values()].map(describe) }),
  };

  const reply = (res: ServerResponse, status: number, body: Json, errorType?: string) => {
    const payload = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': randomUUID(),
      ...(errorType && { 'x-amzn-errortype': errorType }),
    });
    res.end(payload);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.startsWith('secretsmanager.') ? actions[target.slice('secretsmanager.'.length)] : undefined;
      if (req.method !== 'POST' || !action) throw new SecretsError('UnknownOperationException', `unknown operation ${target || '(no X-Amz-Target)'}`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) throw new SecretsError('ValidationException', 'request body too large');
        chunks.push(chunk);
      }
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new SecretsError('SerializationException', 'the request body is not JSON');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new SecretsError('SerializationException', 'the request body is not a JSON object');
      reply(res, 200, await action(input as Json));
    } catch (err) {
      if (err instanceof SecretsError) reply(res, 400, { __type: err.type, Message: err.message }, err.type);
      else reply(res, 500, { __type: 'InternalServiceError', Message: (err as Error).message }, 'InternalServiceError');
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    async ensureSecret(name, value, description) {
      const existing = secrets.get(name);
      if (existing) return existing.arn;
      return (await createSecret({ Name: name, SecretString: value, Description: description })).ARN as string;
    },
    currentValue: (name) => secrets.get(name)?.versions.find((v) => v.stages.includes(CURRENT))?.string,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await writing.catch(() => undefined);
    },
  };
}

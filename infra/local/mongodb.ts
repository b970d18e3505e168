import { mkdirSync } from 'node:fs';
import { congodb } from '@push.rocks/smartmongo';

export interface LocalMongo {
  readonly uri: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A MongoDB wire-protocol server with file storage. It accepts only ObjectId `_id`s and does not enforce unique
 * secondary indexes or transactions: stores give each document a deterministic ObjectId from its natural key.
 */
export async function startMongo(opts: { dataDir: string; port: number }): Promise<LocalMongo> {
  mkdirSync(opts.dataDir, { recursive: true });
  const server = new congodb.CongoServer({ port: opts.port, host: '127.0.0.1', storage: 'file', storagePath: opts.dataDir });
  await server.start();
  return {
    uri: `mongodb://127.0.0.1:${opts.port}/?directConnection=true`,
    port: opts.port,
    stop: () => server.stop(),
  };
}

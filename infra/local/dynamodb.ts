import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { TableDef } from '../topology.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly port: number;
  createTable(name: string, def: TableDef): Promise<void>;
  stop(): Promise<void>;
}

/** DynamoDB from dynalite (LevelDB under `dataDir`). It has no transactions and never deletes expired items. */
export async function startDynamo(opts: { dataDir: string; port: number; region: string }): Promise<LocalDynamo> {
  mkdirSync(opts.dataDir, { recursive: true });
  const server = dynalite({ path: opts.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: opts.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

  return {
    endpoint,
    port,
    async createTable(name, def) {
      const existing = await client.send(new ListTablesCommand({}));
      if (existing.TableNames?.includes(name)) return;
      const attributes = new Set([def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
      const keySchema = (pk: string, sk?: string): KeySchemaElement[] => [
        { AttributeName: pk, KeyType: 'HASH' },
        ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : []),
      ];
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attributes]
            .filter((a): a is string => Boolean(a))
            .map((a): AttributeDefinition => ({ AttributeName: a, AttributeType: 'S' })),
          KeySchema: keySchema(def.partitionKey, def.sortKey),
          ...(def.indexes.length > 0 && {
            GlobalSecondaryIndexes: def.indexes.map(
              (i): GlobalSecondaryIndex => ({ IndexName: i.name, KeySchema: keySchema(i.partitionKey, i.sortKey), Projection: { ProjectionType: 'ALL' } }),
            ),
          }),
        }),
      );
    },
    async stop() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

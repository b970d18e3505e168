import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
  type AttributeValue,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { TableDef } from '../topology.ts';
import type { AccessPolicy } from './access.ts';
import { startDynamoGate } from './access-dynamodb.ts';
import { makePrivateDir } from './files.ts';
import type { UsageMeter } from './usage.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly port: number;
  createTable(name: string, def: TableDef): Promise<void>;
  stop(): Promise<void>;
}

/** DynamoDB from dynalite (LevelDB under `dataDir`). It has no transactions and never deletes expired items. */
/** With `policy`, clients reach dynalite through the access gate (access-dynamodb.ts), the cloud itself directly. */
export async function startDynamo(opts: { dataDir: string; port: number; region: string; policy?: AccessPolicy; usage?: UsageMeter }): Promise<LocalDynamo> {
  makePrivateDir(opts.dataDir);
  // dynalite writes an item's index entries and then the item, one after the other: a process killed in between
  // (kill -9, a crash) can leave an item its index lacks, such as a working job the sweeper never finds. A stop
  // writes this mark; a start without it writes every item of a table with indexes again, which puts back the
  // entries of what the items hold (an entry of a write the item never got may stay: readers of an index read the
  // item again before acting on it).
  const stoppedMark = join(opts.dataDir, 'stopped-cleanly');
  const died = !existsSync(stoppedMark) && readdirSync(opts.dataDir).length > 0;
  rmSync(stoppedMark, { force: true });
  const server = dynalite({ path: opts.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.policy ? 0 : opts.port, '127.0.0.1', () => resolve());
  });
  const direct = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const gate = opts.policy ? await startDynamoGate({ port: opts.port, target: (server.address() as AddressInfo).port, policy: opts.policy, usage: opts.usage }) : undefined;
  const endpoint = gate?.endpoint ?? direct;
  const port = Number(new URL(endpoint).port);
  const client = new DynamoDBClient({ endpoint: direct, region: opts.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

  return {
    endpoint,
    port,
    async createTable(name, def) {
      const attributes = new Set([def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
      const attributeDefinitions = [...attributes]
        .filter((a): a is string => Boolean(a))
        .map((a): AttributeDefinition => ({ AttributeName: a, AttributeType: 'S' }));
      const keySchema = (pk: string, sk?: string): KeySchemaElement[] => [
        { AttributeName: pk, KeyType: 'HASH' },
        ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : []),
      ];
      const create = () =>
        client.send(
          new CreateTableCommand({
            TableName: name,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: attributeDefinitions,
            KeySchema: keySchema(def.partitionKey, def.sortKey),
            ...(def.indexes.length > 0 && {
              GlobalSecondaryIndexes: def.indexes.map(
                (i): GlobalSecondaryIndex => ({ IndexName: i.name, KeySchema: keySchema(i.partitionKey, i.sortKey), Projection: { ProjectionType: 'ALL' } }),
              ),
            }),
          }),
        );
      const existing = await client.send(new ListTablesCommand({}));
      if (!existing.TableNames?.includes(name)) {
        await create();
        return;
      }
      // A table kept from an earlier start must get the indexes the topology has added since, as a deploy
      // would add them. dynalite cannot add an index to a table, so the table is rebuilt with its items.
      const table = await client.send(new DescribeTableCommand({ TableName: name }));
      const have = new Set(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName));
      const complete = def.indexes.every((i) => have.has(i.name));
      if (complete && !(died && def.indexes.length > 0)) return;
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      if (!complete) {
        await client.send(new DeleteTableCommand({ TableName: name }));
        await create();
      }
      for (let i = 0; i < items.length; i += 25) {
        await client.send(new BatchWriteItemCommand({ RequestItems: { [name]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
      }
    },
    async stop() {
      await gate?.stop();
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      writeFileSync(stoppedMark, '');
    },
  };
}

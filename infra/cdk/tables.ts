// DynamoDB: every topology table, on-demand, encrypted, point-in-time recovery, retained on stack deletion.
import { RemovalPolicy, Tags } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { Topology } from '../topology.ts';
import { pascal, TOPOLOGY_TAG, topologyTagValue } from './names.ts';

const key = (name: string | undefined) => (name ? { name, type: AttributeType.STRING } : undefined);

export class Tables extends Construct {
  readonly tables = new Map<string, Table>();

  constructor(scope: Construct, id: string, props: { topology: Topology }) {
    super(scope, id);
    for (const def of props.topology.tables) {
      const table = new Table(this, pascal(def.name), {
        partitionKey: key(def.partitionKey)!,
        sortKey: key(def.sortKey),
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: def.ttlAttribute,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of def.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: key(index.partitionKey)!,
          sortKey: key(index.sortKey),
          projectionType: ProjectionType.ALL,
        });
      }
      Tags.of(table).add(TOPOLOGY_TAG, topologyTagValue('table', def.name), { includeResourceTypes: ['AWS::DynamoDB::Table'] });
      this.tables.set(def.name, table);
    }
  }

  get(name: string): Table {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no table named ${name} in the topology`);
    return t;
  }
}

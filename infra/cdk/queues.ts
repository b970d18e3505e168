// SQS: every topology queue with its dead-letter queue `dlqName(queue)`, plus one infrastructure queue that
// collects failed asynchronous invocations (EventBridge targets, Lambda async on-failure destination).
import { Duration, Tags } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqName, type QueueDef, type Topology } from '../topology.ts';
import { pascal, queuePhysicalName, TOPOLOGY_TAG, topologyTagValue } from './names.ts';

export const DLQ_RETENTION = Duration.days(14);

export interface TopologyQueue {
  readonly def: QueueDef;
  readonly queue: Queue;
  readonly dlq: Queue;
}

export class Queues extends Construct {
  readonly byName = new Map<string, TopologyQueue>();
  /** Dead letters of asynchronous invocations (EventBridge schedule targets, Lambda on-failure). */
  readonly asyncFailures: Queue;

  constructor(scope: Construct, id: string, props: { topology: Topology }) {
    super(scope, id);
    const { topology } = props;

    for (const def of topology.queues) {
      const dlq = new Queue(this, pascal(dlqName(def.name)), {
        queueName: queuePhysicalName(topology, dlqName(def.name)),
        retentionPeriod: DLQ_RETENTION,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new Queue(this, pascal(def.name), {
        queueName: queuePhysicalName(topology, def.name),
        visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: def.maxReceiveCount },
      });
      Tags.of(queue).add(TOPOLOGY_TAG, topologyTagValue('queue', def.name), { includeResourceTypes: ['AWS::SQS::Queue'] });
      Tags.of(dlq).add(TOPOLOGY_TAG, topologyTagValue('dlq', def.name), { includeResourceTypes: ['AWS::SQS::Queue'] });
      this.byName.set(def.name, { def, queue, dlq });
    }

    this.asyncFailures = new Queue(this, 'AsyncFailures', {
      queueName: queuePhysicalName(topology, 'async-failures'),
      retentionPeriod: DLQ_RETENTION,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
  }

  get(name: string): TopologyQueue {
    const q = this.byName.get(name);
    if (!q) throw new Error(`no queue named ${name} in the topology`);
    return q;
  }

  /** Every dead-letter queue, with a label for alarms. */
  deadLetterQueues(): { label: string; queue: IQueue }[] {
    return [
      ...[...this.byName.values()].map((q) => ({ label: dlqName(q.def.name), queue: q.dlq as IQueue })),
      { label: 'async-failures', queue: this.asyncFailures },
    ];
  }
}

// SQS: every topology queue with its dead-letter queue `dlqName(queue)`.
import { Duration, Tags, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqName, type QueueDef } from '../topology.ts';
import { pascal, queuePhysicalName, TOPOLOGY_TAG, topologyTagValue, type Deployment } from './names.ts';

export const DLQ_RETENTION = Duration.days(14);

/**
 * The queue that collects a context's failed asynchronous invocations (EventBridge schedule targets, Lambda's
 * on-failure destination). Each context stack has its own: a rule's dead-letter policy names the rule, so a
 * shared queue in the foundation would make the foundation depend on every context.
 */
export function asyncFailuresQueue(scope: Construct, deployment: Deployment, context: string): Queue {
  const queue = new Queue(scope, 'AsyncFailures', {
    queueName: queuePhysicalName(deployment, `${context}-async-failures`),
    retentionPeriod: DLQ_RETENTION,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'this queue is a dead-letter queue (Lambda on-failure destination, EventBridge target DLQ), which the check only recognizes through a RedrivePolicy',
  });
  return queue;
}

export interface TopologyQueue {
  readonly def: QueueDef;
  readonly queue: Queue;
  readonly dlq: Queue;
}

export class Queues extends Construct {
  readonly byName = new Map<string, TopologyQueue>();

  constructor(scope: Construct, id: string, props: { deployment: Deployment }) {
    super(scope, id);
    const { deployment } = props;
    const { topology } = deployment;

    for (const def of topology.queues) {
      const dlq = new Queue(this, pascal(dlqName(def.name)), {
        queueName: queuePhysicalName(deployment, dlqName(def.name)),
        retentionPeriod: DLQ_RETENTION,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new Queue(this, pascal(def.name), {
        queueName: queuePhysicalName(deployment, def.name),
        visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: def.maxReceiveCount },
      });
      Tags.of(queue).add(TOPOLOGY_TAG, topologyTagValue('queue', def.name), { includeResourceTypes: ['AWS::SQS::Queue'] });
      Tags.of(dlq).add(TOPOLOGY_TAG, topologyTagValue('dlq', def.name), { includeResourceTypes: ['AWS::SQS::Queue'] });
      this.byName.set(def.name, { def, queue, dlq });
    }

  }

  get(name: string): TopologyQueue {
    const q = this.byName.get(name);
    if (!q) throw new Error(`no queue named ${name} in the topology`);
    return q;
  }
}

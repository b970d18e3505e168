// CloudWatch alarms for operators, all to one SNS topic `framewise-alarms`.
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Topology } from '../topology.ts';
import type { Api } from './api.ts';
import type { Functions } from './functions.ts';
import { pascal } from './names.ts';
import type { Queues } from './queues.ts';
import type { Workflows } from './workflows.ts';

const PERIOD = Duration.minutes(5);

export class Alarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: { topology: Topology; queues: Queues; functions: Functions; workflows: Workflows; api: Api }) {
    super(scope, id);
    const { topology } = props;

    // Encrypted with a customer managed key, not the AWS managed alias/aws/sns: that key's policy cannot be
    // changed and does not let CloudWatch use it, so alarms could not publish to the topic.
    const key = new Key(this, 'TopicKey', {
      description: `${topology.app} alarm topic encryption`,
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { topicName: `${topology.app}-alarms`, displayName: 'Framewise alarms', masterKey: key, enforceSSL: true });
    this.topic.grantPublish(new ServicePrincipal('cloudwatch.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    this.action = new SnsAction(this.topic);

    for (const { label, queue } of props.queues.deadLetterQueues()) {
      this.alarm(`Dlq${pascal(label)}`, `${label} has messages: they failed ${label === 'async-failures' ? 'asynchronous invocation' : 'processing'}`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }));
    }
    for (const { def, stateMachine } of props.workflows.byName.values()) {
      this.alarm(`${pascal(def.name)}ExecutionsFailed`, `state machine ${def.name}: an execution failed`,
        stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }));
      this.alarm(`${pascal(def.name)}ExecutionsTimedOut`, `state machine ${def.name}: an execution timed out`,
        stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }));
    }
    for (const { def, fn } of props.functions.byName.values()) {
      this.alarm(`${pascal(def.name)}Errors`, `function ${def.name}: invocation errors`, fn.metricErrors({ period: PERIOD, statistic: 'Sum' }));
    }
    this.alarm('Api5xx', 'HTTP API: 5xx responses', props.api.api.metricServerError({ period: PERIOD, statistic: 'Sum' }));
  }

  private alarm(id: string, description: string, metric: IMetric): void {
    const alarm = new Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
  }
}

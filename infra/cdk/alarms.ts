// CloudWatch alarms for operators, all to one SNS topic per stage (`framewise-<stage>-alarms`, in the foundation).
// Each stack raises the alarms of what it holds: the foundation its queues and API, a context its functions and
// state machines.
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { physicalName, type Deployment } from './names.ts';

export const ALARM_PERIOD = Duration.minutes(5);

export class AlarmTopic extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: { deployment: Deployment; email?: string }) {
    super(scope, id);
    const { deployment } = props;
    // Encrypted with a customer managed key, not the AWS managed alias/aws/sns: that key's policy cannot be
    // changed and does not let CloudWatch use it, so alarms could not publish to the topic.
    const key = new Key(this, 'TopicKey', {
      description: `${physicalName(deployment, 'alarms')} topic encryption`,
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      topicName: physicalName(deployment, 'alarms'),
      displayName: `Framewise alarms (${deployment.stage})`,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.grantPublish(new ServicePrincipal('cloudwatch.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }
}

/** Alarms of one stack: each fires at one occurrence in a 5-minute period and notifies the stage's topic. */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: { topic: ITopic }) {
    super(scope, id);
    this.action = new SnsAction(props.topic);
  }

  add(id: string, description: string, metric: IMetric): Alarm {
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
    return alarm;
  }
}

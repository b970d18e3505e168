// CloudWatch alarms for operators, all to one SNS topic per stage (`framewise-<stage>-alarms`, in the foundation).
// Each stack raises the alarms of what it holds: the foundation its queues, API and databases, a context its
// state machines, functions and async-failures queue. An alarm means an operator has something to do: nothing
// fires on a task error that a retry fixes (a workflow that gives up after its retries fails its execution).
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dlqName } from '../topology.ts';
import type { Api } from './api.ts';
import { POSTGRES_CAPACITY, type Database } from './database.ts';
import type { Functions } from './functions.ts';
import { pascal, physicalName, type Deployment } from './names.ts';
import type { Queues } from './queues.ts';
import type { Workflows } from './workflows.ts';

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

export interface AlarmSpec {
  /** What it means and what to look at: the text an operator reads in the notification. */
  readonly description: string;
  readonly metric: IMetric;
  /** Fires at this value or above. */
  readonly threshold: number;
  /** Consecutive periods at or above the threshold before it fires (default 1). */
  readonly periods?: number;
}

/** Alarms of one stack, each notifying the stage's topic. Missing data never fires: an idle stage is a healthy one. */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: { topic: ITopic }) {
    super(scope, id);
    this.action = new SnsAction(props.topic);
  }

  add(id: string, spec: AlarmSpec): Alarm {
    const periods = spec.periods ?? 1;
    const alarm = new Alarm(this, id, {
      alarmDescription: spec.description,
      metric: spec.metric,
      threshold: spec.threshold,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** A dead-letter queue holds a message: something failed for good and waits to be looked at and redriven. */
  deadLetters(id: string, queue: IQueue, name: string, what: string, where: string): Alarm {
    return this.add(id, {
      description: `${name} has messages: ${what}. ${where} Fix the cause, then redrive: aws sqs start-message-move-task --source-arn <${name} ARN>.`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      threshold: 1,
    });
  }
}

/** The 5xx rate that means the API is failing its callers, over enough requests for a percentage to mean something. */
export const API_5XX_ALARM = { percent: 5, minRequests: 20 } as const;
/** Sustained load near what the stage was sized for (3 periods: 15 minutes), not a spike. */
export const DATABASE_ALARM = { capacityShare: 0.9, cpuPercent: 80, proxyConnectionsPercent: 80, periods: 3 } as const;

/** A metric of the DocumentDB cluster (CDK's DocumentDB construct has no metric helpers). */
export const documentDbMetric = (clusterIdentifier: string, metricName: string, statistic: string, period = ALARM_PERIOD): Metric =>
  new Metric({ namespace: 'AWS/DocDB', metricName, dimensionsMap: { DBClusterIdentifier: clusterIdentifier }, period, statistic });

/** The foundation's alarms: its queues, the HTTP API, Aurora and the RDS Proxy. */
export function raiseFoundationAlarms(alarms: Alarms, props: { deployment: Deployment; queues: Queues; api: Api; database: Database }): void {
  const { deployment, queues, api, database } = props;
  for (const { def, queue, dlq } of queues.byName.values()) {
    const consumers = deployment.topology.functions.filter((f) => f.triggers.some((t) => t.kind === 'queue' && t.queue === def.name)).map((f) => f.name);
    alarms.deadLetters(`Dlq${pascal(dlqName(def.name))}`, dlq, dlqName(def.name),
      `messages of ${def.name} failed ${def.maxReceiveCount} times in ${consumers.join(', ') || 'their consumer'}`,
      'The errors are in the consumer\'s log group.');
    // Each receive hides a message for the visibility timeout; maxReceiveCount receives later it is in the DLQ. A
    // message older than that has not been received at the rate retries explain: the queue is not being drained.
    const maxAgeSeconds = def.visibilityTimeoutSeconds * def.maxReceiveCount;
    alarms.add(`${pascal(def.name)}OldestMessage`, {
      description: `${def.name}: a message has waited ${maxAgeSeconds}s (visibility timeout x maxReceiveCount) or more, so ${consumers.join(', ') || 'its consumer'} is not keeping up. ` +
        'Look at the consumer\'s throttles, concurrency and errors, and whether its event source mapping is enabled.',
      metric: queue.metricApproximateAgeOfOldestMessage({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      threshold: maxAgeSeconds,
    });
  }

  const requests = api.api.metricCount({ period: ALARM_PERIOD, statistic: 'Sum' });
  const errors = api.api.metricServerError({ period: ALARM_PERIOD, statistic: 'Sum' });
  alarms.add('Api5xxRate', {
    description: `HTTP API: ${API_5XX_ALARM.percent}% or more of the requests in 5 minutes (at least ${API_5XX_ALARM.minRequests} requests) answered 5xx. ` +
      'Look at the access logs (status, integrationError) and at the logs and errors of the route\'s function; a throttled function answers 5xx too.',
    metric: new MathExpression({
      expression: `IF(requests >= ${API_5XX_ALARM.minRequests}, 100 * errors / requests, 0)`,
      usingMetrics: { requests, errors },
      period: ALARM_PERIOD,
      label: '5xx %',
    }),
    threshold: API_5XX_ALARM.percent,
  });

  const { cluster } = database;
  alarms.add('PostgresCapacityNearMax', {
    description: `Aurora has run at ${DATABASE_ALARM.capacityShare * 100}% or more of its ${POSTGRES_CAPACITY.max} ACU maximum for 15 minutes: it cannot scale further. ` +
      'Look for slow or piled-up queries (Performance Insights, the postgresql log); raise POSTGRES_CAPACITY.max if the load is real.',
    metric: cluster.metricServerlessDatabaseCapacity({ period: ALARM_PERIOD, statistic: 'Average' }),
    threshold: POSTGRES_CAPACITY.max * DATABASE_ALARM.capacityShare,
    periods: DATABASE_ALARM.periods,
  });
  alarms.add('PostgresCpu', {
    description: `Aurora CPU at ${DATABASE_ALARM.cpuPercent}% or more for 15 minutes: queries queue up behind it. Look at the top statements in Performance Insights and at the capacity alarm.`,
    metric: cluster.metricCPUUtilization({ period: ALARM_PERIOD, statistic: 'Average' }),
    threshold: DATABASE_ALARM.cpuPercent,
    periods: DATABASE_ALARM.periods,
  });
  const proxyMetric = (metricName: string) =>
    new Metric({ namespace: 'AWS/RDS', metricName, dimensionsMap: { ProxyName: database.proxy.dbProxyName }, period: ALARM_PERIOD, statistic: 'Sum' });
  alarms.add('ProxyConnectionsNearMax', {
    description: `RDS Proxy holds ${DATABASE_ALARM.proxyConnectionsPercent}% or more of the database connections it may open, for 15 minutes: functions soon wait to borrow one and time out. ` +
      'Look at ClientConnections and DatabaseConnectionsCurrentlySessionPinned (pinned connections are not shared), and at the concurrency of the functions that use PostgreSQL.',
    metric: new MathExpression({
      expression: '100 * connections / allowed',
      usingMetrics: { connections: proxyMetric('DatabaseConnections'), allowed: proxyMetric('MaxDatabaseConnectionsAllowed') },
      period: ALARM_PERIOD,
      label: 'proxy connections % of allowed',
    }),
    threshold: DATABASE_ALARM.proxyConnectionsPercent,
    periods: DATABASE_ALARM.periods,
  });
  const documentDb = database.mongo.cluster;
  if (documentDb) {
    alarms.add('DocumentDbCpu', {
      description: `DocumentDB CPU at ${DATABASE_ALARM.cpuPercent}% or more for 15 minutes: its one burstable instance is out of headroom. ` +
        'Look at the profiler log group for slow operations and at the instance\'s CPUCreditBalance; a larger instance class is the fix for real load.',
      metric: documentDbMetric(documentDb.clusterIdentifier, 'CPUUtilization', 'Average'),
      threshold: DATABASE_ALARM.cpuPercent,
      periods: DATABASE_ALARM.periods,
    });
  }
}

/** A context's alarms: its async-failures queue, its state machines giving up, its functions throttled. */
export function raiseContextAlarms(alarms: Alarms, props: { context: string; asyncFailures: IQueue; functions: Functions; workflows: Workflows }): void {
  const { context, asyncFailures, functions, workflows } = props;
  alarms.deadLetters('DlqAsyncFailures', asyncFailures, `${context}-async-failures`,
    `an asynchronous invocation (a schedule, an async invoke) of a ${context} function failed after its retries`,
    'Each message holds the event and the error (a Lambda on-failure record, or the ERROR_CODE and ERROR_MESSAGE attributes of an EventBridge delivery).');
  for (const { def, stateMachine } of workflows.byName.values()) {
    alarms.add(`${pascal(def.name)}ExecutionsFailed`, {
      description: `state machine ${def.name}: an execution failed, i.e. gave up after the retries of its states. ` +
        'Open the execution in the Step Functions console (the failed state names the function and error) and its job in GET /v1/jobs/{id}.',
      metric: stateMachine.metricFailed({ period: ALARM_PERIOD, statistic: 'Sum' }),
      threshold: 1,
    });
    alarms.add(`${pascal(def.name)}ExecutionsTimedOut`, {
      description: `state machine ${def.name}: an execution ran past its ${def.timeoutSeconds}s timeout. Open it in the console to see which state was running and why it took that long.`,
      metric: stateMachine.metricTimedOut({ period: ALARM_PERIOD, statistic: 'Sum' }),
      threshold: 1,
    });
  }
  // A function with reserved concurrency throttles by design: it is the back-pressure of its queue or Map state,
  // whose retries absorb it. Any other function throttles only when the account's concurrency runs out.
  for (const { def, fn } of functions.byName.values()) {
    if (def.reservedConcurrency !== undefined) continue;
    alarms.add(`${pascal(def.name)}Throttles`, {
      description: `function ${def.name} was throttled: the account's unreserved Lambda concurrency ran out (API callers get 5xx, queues back up). ` +
        'Look at ConcurrentExecutions of the account and at which function is taking it; ask for a higher concurrency quota if the load is real.',
      metric: fn.metricThrottles({ period: ALARM_PERIOD, statistic: 'Sum' }),
      threshold: 1,
    });
  }
}

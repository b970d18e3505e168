// The stage's CloudWatch dashboard (`framewise-<stage>`), in the foundation stack. The foundation's own resources
// (API, queues, Aurora, proxy) are graphed by reference; what the contexts own (functions, state machines,
// async-failures queues) is found by CloudWatch SEARCH on the stage's name prefix, so that adding a context never
// changes the foundation: its functions and state machines appear on the dashboard once they emit metrics.
import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, HorizontalAnnotation, MathExpression, Metric, TextWidget, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { dlqName } from '../topology.ts';
import { documentDbMetric } from './alarms.ts';
import type { Api } from './api.ts';
import { POSTGRES_CAPACITY, type Database } from './database.ts';
import { physicalName, type Deployment } from './names.ts';
import type { Queues } from './queues.ts';

const PERIOD = Duration.minutes(5);
/** How many functions the duration graph shows: the slowest, which are the heavy ones. */
const HEAVIEST = 6;

/** `framewise-<stage>`: the dashboard's name, and the prefix of every name in the stage. */
export const dashboardName = (d: Deployment): string => `${d.topology.app}-${d.stage}`;

export class StageDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: { deployment: Deployment; queues: Queues; api: Api; database: Database }) {
    super(scope, id);
    const { deployment, queues, api, database } = props;
    const prefix = dashboardName(deployment);
    // A SEARCH term like `framewise-dev` matches names with those tokens in a row (case-sensitive), i.e. this
    // stage's functions (named after their stack), state machines and queues.
    // An empty label lets CloudWatch name each series found by its dimension (the function, queue, state machine).
    const search = (schema: string, metricName: string, statistic: string, more = ''): MathExpression =>
      new MathExpression({
        expression: `SEARCH('{${schema}} MetricName="${metricName}" ${prefix}${more}', '${statistic}', ${PERIOD.toSeconds()})`,
        usingMetrics: {},
        label: '',
        period: PERIOD,
      });
    const graph = (title: string, left: IMetric[], more: { right?: IMetric[]; annotations?: HorizontalAnnotation[]; width?: number } = {}) =>
      new GraphWidget({ title, left, right: more.right, leftAnnotations: more.annotations, width: more.width ?? 8, height: 6, period: PERIOD });

    // reported every minute by each of the proxy's hosts: the Sum of a minute is the proxy's count
    const proxy = (metricName: string) => new Metric({
      namespace: 'AWS/RDS', metricName, dimensionsMap: { ProxyName: database.proxy.dbProxyName }, period: Duration.minutes(1), statistic: 'Sum', label: metricName,
    });
    const topologyQueues = [...queues.byName.values()];

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: prefix, defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(new TextWidget({
      markdown: `# Framewise ${deployment.stage}\nAlarms notify the topic \`${physicalName(deployment, 'alarms')}\`. Functions and state machines are found by name (\`${prefix}-*\`).`,
      width: 24,
      height: 2,
    }));
    this.dashboard.addWidgets(
      graph('API requests and errors', [
        api.api.metricCount({ period: PERIOD, statistic: 'Sum', label: 'requests' }),
        api.api.metricClientError({ period: PERIOD, statistic: 'Sum', label: '4xx' }),
        api.api.metricServerError({ period: PERIOD, statistic: 'Sum', label: '5xx' }),
      ]),
      graph('API latency (ms)', [
        api.api.metricLatency({ period: PERIOD, statistic: 'p50', label: 'p50' }),
        api.api.metricLatency({ period: PERIOD, statistic: 'p99', label: 'p99' }),
        api.api.metricIntegrationLatency({ period: PERIOD, statistic: 'p99', label: 'integration p99' }),
      ]),
      graph('Dead letters (messages visible)', [
        ...topologyQueues.map(({ def, dlq }) => dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: dlqName(def.name) })),
        search('AWS/SQS,QueueName', 'ApproximateNumberOfMessagesVisible', 'Maximum', ' async-failures'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Queue depth (messages visible)', topologyQueues.map(({ def, queue }) =>
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: def.name }))),
      graph('Age of the oldest message (s)', topologyQueues.map(({ def, queue }) =>
        queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: def.name }))),
      graph('State machine executions started', [search('AWS/States,StateMachineArn', 'ExecutionsStarted', 'Sum')]),
    );
    this.dashboard.addWidgets(
      graph('State machine executions succeeded', [search('AWS/States,StateMachineArn', 'ExecutionsSucceeded', 'Sum')]),
      graph('State machine executions failed and timed out', [
        search('AWS/States,StateMachineArn', 'ExecutionsFailed', 'Sum'),
        search('AWS/States,StateMachineArn', 'ExecutionsTimedOut', 'Sum'),
      ]),
      graph('Function errors (a retried task error shows here, not as an alarm)', [search('AWS/Lambda,FunctionName', 'Errors', 'Sum')]),
    );
    const slowest = new MathExpression({
      expression: `SORT(SEARCH('{AWS/Lambda,FunctionName} MetricName="Duration" ${prefix}', 'Maximum', ${PERIOD.toSeconds()}), MAX, DESC, ${HEAVIEST})`,
      usingMetrics: {},
      label: '',
      period: PERIOD,
    });
    this.dashboard.addWidgets(
      graph('Function throttles', [search('AWS/Lambda,FunctionName', 'Throttles', 'Sum')]),
      graph(`Function duration, max (ms): the ${HEAVIEST} slowest`, [slowest]),
      graph('Function concurrency', [search('AWS/Lambda,FunctionName', 'ConcurrentExecutions', 'Maximum')]),
    );
    this.dashboard.addWidgets(
      graph('Aurora capacity (ACU)', [database.cluster.metricServerlessDatabaseCapacity({ period: PERIOD, statistic: 'Maximum', label: 'ACU' })], {
        annotations: [{ value: POSTGRES_CAPACITY.max, label: 'max' }],
      }),
      graph('Aurora CPU (%)', [database.cluster.metricCPUUtilization({ period: PERIOD, statistic: 'Average', label: 'CPU' })]),
      graph('RDS Proxy connections', [proxy('ClientConnections'), proxy('DatabaseConnections'), proxy('MaxDatabaseConnectionsAllowed')]),
    );
    const documentDb = database.mongo.cluster;
    if (documentDb) {
      this.dashboard.addWidgets(
        graph('DocumentDB CPU (%)', [documentDbMetric(documentDb.clusterIdentifier, 'CPUUtilization', 'Average', PERIOD)]),
        graph('DocumentDB connections', [documentDbMetric(documentDb.clusterIdentifier, 'DatabaseConnections', 'Maximum', PERIOD)]),
      );
    }
  }
}

// One stack per bounded context of a stage: its functions, routes (on the foundation's HTTP API), state machines,
// schedules and alarms. A context stack depends on the foundation and, where a workflow ends in the jobs
// context's outcome task, on the jobs stack: never on a context above it.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import { contextOf, type ContextName } from '../topology.ts';
import { Alarms, raiseContextAlarms } from './alarms.ts';
import { ApiRoutes } from './api.ts';
import type { Foundation } from './foundation.ts';
import { Functions, type TopologyFunction } from './functions.ts';
import { asyncFailuresQueue } from './queues.ts';
import { pascal, type Deployment } from './names.ts';
import { Schedules } from './schedules.ts';
import { Workflows } from './workflows.ts';

export interface ContextStackProps extends StackProps {
  readonly deployment: Deployment;
  readonly context: ContextName;
  readonly foundation: Foundation;
  /** Functions of the contexts below this one, by name, for the Task states that invoke them. */
  readonly lowerFunctions: ReadonlyMap<string, TopologyFunction>;
}

export class ContextStack extends Stack {
  readonly functions: Functions;
  readonly workflows: Workflows;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: ContextStackProps) {
    super(scope, id, { description: `Framewise ${props.deployment.stage}: the ${props.context} context`, ...props });
    const { deployment, context, foundation } = props;
    const { topology } = deployment;

    const asyncFailures = asyncFailuresQueue(this, deployment, context);
    this.functions = new Functions(this, 'Functions', {
      deployment,
      defs: topology.functions.filter((f) => contextOf(f) === context),
      foundation,
      asyncFailures,
    });
    new ApiRoutes(this, 'Routes', { api: foundation.api.api, functions: this.functions });
    this.workflows = new Workflows(this, 'Workflows', {
      deployment,
      defs: topology.stateMachines.filter((s) => s.context === context),
      functionNamed: (name) => {
        const fn = this.functions.byName.get(name) ?? props.lowerFunctions.get(name);
        if (!fn) throw new Error(`a ${context} state machine invokes ${name}, which is neither in ${context} nor in a context below it`);
        return fn;
      },
    });
    new Schedules(this, 'Schedules', { functions: this.functions, asyncFailures });
    // Deploy functions run once their stack's resources exist, each time their version changes: their code, their
    // configuration or their bundled folders (a new migration is a new bundle). The bootstrap is idempotent, and an
    // operator runs it again at will with `aws lambda invoke`.
    for (const { def, fn } of this.functions.byName.values()) {
      if (!def.triggers.some((t) => t.kind === 'deploy')) continue;
      new Trigger(this, `${pascal(def.name)}OnDeploy`, { handler: fn, timeout: Duration.seconds(def.timeoutSeconds), executeOnHandlerChange: true });
    }

    this.alarms = new Alarms(this, 'Alarms', { topic: foundation.alarmTopic.topic });
    raiseContextAlarms(this.alarms, { context, asyncFailures, functions: this.functions, workflows: this.workflows });

    for (const [name, { stateMachine }] of this.workflows.byName) {
      new CfnOutput(this, `StateMachine${pascal(name)}Arn`, { value: stateMachine.stateMachineArn, description: `state machine ${name}` });
    }
  }
}

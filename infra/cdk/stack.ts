// A stage of Framewise: the topology (infra/topology.ts) turned into a foundation stack and one stack per
// bounded context (lowest first, so that each may use the functions of the contexts below it).
import type { App, Environment } from 'aws-cdk-lib';
import { CONTEXTS, contextOf, topology as defaultTopology, type ContextName, type Topology } from '../topology.ts';
import { ConsoleStack } from './console.ts';
import { ContextStack } from './context-stack.ts';
import { FoundationStack } from './foundation.ts';
import type { TopologyFunction } from './functions.ts';
import { checkStage, DEFAULT_STAGE, stackName, type Deployment } from './names.ts';

export interface FramewiseProps {
  /** `-c stage=<name>`; `dev` by default. */
  readonly stage?: string;
  /** Defaults to the project's topology; tests may pass another. */
  readonly topology?: Topology;
  readonly alarmEmail?: string;
  readonly env?: Environment;
}

export interface FramewiseStage {
  readonly deployment: Deployment;
  readonly foundation: FoundationStack;
  readonly contexts: ReadonlyMap<ContextName, ContextStack>;
  /** The web console, on the API's stack (the foundation) only. */
  readonly console: ConsoleStack;
}

export function framewiseStage(app: App, props: FramewiseProps = {}): FramewiseStage {
  const deployment: Deployment = { topology: props.topology ?? defaultTopology, stage: checkStage(props.stage ?? DEFAULT_STAGE) };
  const { topology } = deployment;
  const common = { env: props.env, tags: { 'framewise:stage': deployment.stage } };
  const foundation = new FoundationStack(app, stackName(deployment, 'foundation'), { ...common, deployment, alarmEmail: props.alarmEmail });

  const contexts = new Map<ContextName, ContextStack>();
  const lowerFunctions = new Map<string, TopologyFunction>();
  for (const context of CONTEXTS) {
    const owns = topology.functions.some((f) => contextOf(f) === context) || topology.stateMachines.some((s) => s.context === context);
    if (!owns) continue;
    const stack = new ContextStack(app, stackName(deployment, context), { ...common, deployment, context, foundation, lowerFunctions: new Map(lowerFunctions) });
    // The platform (migrations, the first admin key) is in place before any context's functions and routes are.
    const platform = contexts.get('platform');
    if (platform) stack.addDependency(platform, 'the schema is migrated before the functions that use it deploy');
    for (const [name, fn] of stack.functions.byName) lowerFunctions.set(name, fn);
    contexts.set(context, stack);
  }
  const webConsole = new ConsoleStack(app, stackName(deployment, 'console'), { ...common, deployment, foundation });
  return { deployment, foundation, contexts, console: webConsole };
}

// Step Functions: one state machine per topology entry, from its ASL file, with the `${<Fn>FunctionArn}`
// placeholders substituted by CloudFormation (definitionSubstitutions).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { functionArnPlaceholder, type StateMachineDef } from '../topology.ts';
import type { TopologyFunction } from './functions.ts';
import { intendWildcards } from './nag.ts';
import { logRetention, pascal, PROJECT_ROOT, stateMachineName, TOPOLOGY_TAG, topologyTagValue, type Deployment } from './names.ts';

/** Every `${name}` placeholder in an ASL document. */
export function aslPlaceholders(asl: string): string[] {
  return [...new Set([...asl.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!))];
}

/**
 * Throws unless `substitutions` covers every placeholder of the ASL document (and names no placeholder the
 * document lacks, which would mean the topology lists a function its state machine never invokes).
 */
export function checkSubstitutions(name: string, asl: string, substitutions: Record<string, unknown>): void {
  const placeholders = aslPlaceholders(asl);
  const missing = placeholders.filter((p) => !(p in substitutions));
  if (missing.length > 0) {
    throw new Error(`state machine ${name}: placeholders without a value: ${missing.map((p) => `\${${p}}`).join(', ')} ` +
      `(list the functions in the topology's stateMachines[].functions)`);
  }
  const unused = Object.keys(substitutions).filter((k) => !placeholders.includes(k));
  if (unused.length > 0) throw new Error(`state machine ${name}: functions never referenced by its ASL file: ${unused.join(', ')}`);
}

export interface TopologyStateMachine {
  readonly def: StateMachineDef;
  readonly stateMachine: StateMachine;
}

export class Workflows extends Construct {
  readonly byName = new Map<string, TopologyStateMachine>();

  /**
   * `functionNamed` finds a function of this context or of a lower one (the jobs context's outcome task), whose
   * stack is deployed first.
   */
  constructor(scope: Construct, id: string, props: { deployment: Deployment; defs: readonly StateMachineDef[]; functionNamed: (name: string) => TopologyFunction }) {
    super(scope, id);
    const { deployment, functionNamed } = props;
    const { topology } = deployment;
    for (const def of props.defs) {
      const asl = readFileSync(path.join(PROJECT_ROOT, def.definitionFile), 'utf8');
      JSON.parse(asl); // a syntax error here beats one at deploy time
      const invoked = def.functions.map(functionNamed);
      const substitutions = Object.fromEntries(invoked.map((f) => [functionArnPlaceholder(f.def.name), f.fn.functionArn]));
      checkSubstitutions(def.name, asl, substitutions);

      const id = pascal(def.name);
      const logGroup = new LogGroup(this, `${id}Logs`, {
        // the /aws/vendedlogs/ prefix keeps CloudWatch Logs resource policies small
        logGroupName: `/aws/vendedlogs/states/${stateMachineName(deployment, def.name)}`,
        retention: logRetention(topology),
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const stateMachine = new StateMachine(this, id, {
        stateMachineName: stateMachineName(deployment, def.name),
        comment: def.purpose,
        // Inline (rather than DefinitionBody.fromFile, which uploads an S3 asset) so the definition is visible
        // in the template and in diffs; CloudFormation substitutes the ARNs.
        definitionBody: DefinitionBody.fromString(asl),
        definitionSubstitutions: substitutions,
        timeout: Duration.seconds(def.timeoutSeconds),
        tracingEnabled: true,
        logs: { destination: logGroup, level: LogLevel.ERROR, includeExecutionData: false },
      });
      // The role may invoke exactly the functions its Task states name.
      for (const f of invoked) f.fn.grantInvoke(stateMachine);
      Validations.of(stateMachine).acknowledge({
        id: 'AwsSolutions-SF1',
        reason: 'logs ERROR events only, without execution data: inputs carry object keys and job payloads, failures are what an operator reads, and ALL would bill every state transition',
      });
      intendWildcards(stateMachine,
        { resource: /:\*$/, actions: /^lambda:InvokeFunction$/, reason: 'versions and aliases of exactly the functions its Task states name (grantInvoke)' },
        { resource: /^\*$/, actions: /^(logs:[A-Za-z]+Deliver(y|ies)|logs:(DescribeLogGroups|DescribeResourcePolicies|PutResourcePolicy)|xray:[A-Za-z]+)$/,
          reason: 'CloudWatch Logs delivery and X-Ray tracing actions take no resource' },
      );
      Tags.of(stateMachine).add(TOPOLOGY_TAG, topologyTagValue('state-machine', def.name), { includeResourceTypes: ['AWS::StepFunctions::StateMachine'] });
      this.byName.set(def.name, { def, stateMachine });
    }
  }
}

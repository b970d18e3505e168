// EventBridge: one rule per topology schedule trigger, invoking its function asynchronously.
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Functions } from './functions.ts';
import { pascal, rateSeconds } from './names.ts';

export class Schedules extends Construct {
  readonly rules = new Map<string, Rule>();

  constructor(scope: Construct, id: string, props: { functions: Functions; asyncFailures: IQueue }) {
    super(scope, id);
    for (const { def } of props.functions.byName.values()) {
      for (const trigger of def.triggers) {
        if (trigger.kind !== 'schedule') continue;
        const seconds = rateSeconds(trigger.expression);
        if (seconds !== undefined && seconds !== trigger.everySeconds) {
          throw new Error(`schedule ${trigger.name}: ${trigger.expression} is ${seconds}s but everySeconds says ${trigger.everySeconds}`);
        }
        if (this.rules.has(trigger.name)) throw new Error(`schedule ${trigger.name} is declared twice`);
        const rule = new Rule(this, pascal(trigger.name), {
          description: `${trigger.name}: ${def.name} ${trigger.expression}`,
          schedule: Schedule.expression(trigger.expression),
          targets: [
            new LambdaFunction(props.functions.get(def.name).fn, {
              ...(trigger.input && { event: RuleTargetInput.fromObject(trigger.input) }),
              retryAttempts: 2,
              deadLetterQueue: props.asyncFailures,
            }),
          ],
        });
        this.rules.set(trigger.name, rule);
      }
    }
  }
}

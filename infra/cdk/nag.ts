// cdk-nag's AwsSolutions checks over a stage (a validation plugin: `cdk synth` fails on any unacknowledged
// finding). A finding is acknowledged next to the construct that causes it, with `Validations.of(c).acknowledge`;
// wildcard resources in IAM policies, whose finding ids embed resolved ARNs, are declared with `intendWildcards`.
import { Stack, Validations, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** A wildcard an IAM policy is meant to have: its resource, the only actions it may carry, and why. */
export interface IntendedWildcard {
  /** Matched against the resource as cdk-nag prints it (references flattened, e.g. `<FnArn>:*`). */
  readonly resource: RegExp;
  /**
   * Every action of the statement must match. (A finding id names the resource only: once acknowledged, the same
   * resource in another statement of that policy is acknowledged too.)
   */
  readonly actions: RegExp;
  readonly reason: string;
}

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const intended = new WeakMap<IConstruct, IntendedWildcard[]>();

/** Declares wildcards the IAM policies under `scope` are meant to have; any other wildcard stays a finding. */
export function intendWildcards(scope: IConstruct, ...wildcards: IntendedWildcard[]): void {
  intended.set(scope, [...(intended.get(scope) ?? []), ...wildcards]);
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Acknowledges each AwsSolutions-IAM5 finding of a policy under `scope` that an intended wildcard explains. */
function acknowledgeIntendedWildcards(scope: IConstruct): void {
  for (const node of scope.node.findAll()) {
    if (!(node instanceof CfnPolicy)) continue;
    const wildcards = node.node.scopes.flatMap((s) => intended.get(s) ?? []);
    if (wildcards.length === 0) continue;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a resolved policy document is untyped JSON
    const document: any = Stack.of(node).resolve(node.policyDocument);
    for (const statement of asArray<{ Effect: string; Action: string | string[]; Resource: unknown }>(document.Statement)) {
      if (statement.Effect !== 'Allow') continue;
      const actions = asArray(statement.Action);
      for (const resource of asArray(statement.Resource).map(flattenCfnReference).filter((r) => r.includes('*'))) {
        const why = wildcards.find((w) => w.resource.test(resource) && actions.every((a) => w.actions.test(a)));
        if (why) Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason: why.reason });
      }
    }
  }
}

/** AwsSolutions checks that first acknowledge the wildcards declared with `intendWildcards`. */
export class FramewiseChecks extends AwsSolutionsChecks {
  override validateScope(scope: IConstruct): PolicyValidationPluginReport {
    acknowledgeIntendedWildcards(scope);
    return super.validateScope(scope);
  }
}


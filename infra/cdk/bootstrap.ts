// What a deploy runs before anything serves: the topology's secrets (Secrets Manager), and every function with a
// deploy trigger, run by a CDK trigger once the given constructs (the database) exist and before the others (the API).
//
// The trigger runs its function when the function's version changes: its code, configuration or bundled folders
// (the migrations are in its asset, so a new migration is a new version), and on the first deploy. A custom
// resource with a property that changes on every synth would run it on every deploy, but would make the template
// differ at each synth (every `cdk diff` a change) for runs that find nothing to do: the bootstrap is idempotent,
// and an operator runs it again at will with `aws lambda invoke` (e.g. after restoring the database).
import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Trigger } from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import { secretEnv, secretName, type Topology } from '../topology.ts';
import type { Functions } from './functions.ts';
import { pascal } from './names.ts';

export interface BootstrapProps {
  readonly topology: Topology;
  /** Secret names carry it: `<app>/<stage>/<secret>`. */
  readonly stage: string;
  readonly functions: Functions;
  /** Deploy functions run once these exist (the database, its proxy and the rules that let functions reach it). */
  readonly after: readonly Construct[];
  /** ...and before these are created or updated (the API). */
  readonly before: readonly Construct[];
}

export class Bootstrap extends Construct {
  readonly secrets = new Map<string, Secret>();
  readonly triggers = new Map<string, Trigger>();

  constructor(scope: Construct, id: string, props: BootstrapProps) {
    super(scope, id);
    const { topology } = props;
    for (const def of topology.secrets) {
      this.secrets.set(
        def.name,
        new Secret(this, pascal(def.name), {
          secretName: secretName(props.stage, def.name),
          description: def.purpose,
          // A fixed text, not a generated value, which its function would take for the real one.
          secretStringValue: SecretValue.unsafePlainText(SECRET_NOT_SET),
          // The value outlives the stack, as the database it belongs with does (a retained cluster snapshot).
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      );
    }
    for (const { def, fn } of props.functions.byName.values()) {
      for (const name of def.uses.secrets ?? []) {
        const secret = this.secrets.get(name);
        if (!secret) throw new Error(`function ${def.name} uses unknown secret ${name}`);
        fn.addEnvironment(secretEnv(name), secret.secretArn);
        secret.grantRead(fn);
        secret.grantWrite(fn);
      }
      if (!def.triggers.some((t) => t.kind === 'deploy')) continue;
      this.triggers.set(
        def.name,
        new Trigger(this, `${pascal(def.name)}OnDeploy`, {
          handler: fn,
          timeout: Duration.seconds(def.timeoutSeconds),
          executeOnHandlerChange: true,
          executeAfter: [...props.after],
          executeBefore: [...props.before],
        }),
      );
    }
  }
}

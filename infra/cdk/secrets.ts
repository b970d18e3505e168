// Secrets Manager: the topology's secrets (values the app itself creates, such as the first admin API key),
// named `<app>/<stage>/<name>`. Each starts out holding a fixed text its function recognizes as "not set yet",
// never a generated value the function would take for the real one.
import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import { secretName } from '../topology.ts';
import { pascal, type Deployment } from './names.ts';

export class Secrets extends Construct {
  private readonly byName = new Map<string, Secret>();

  constructor(scope: Construct, id: string, props: { deployment: Deployment }) {
    super(scope, id);
    const { deployment } = props;
    for (const def of deployment.topology.secrets) {
      const secret = new Secret(this, pascal(def.name), {
        secretName: secretName(deployment.stage, def.name),
        description: def.purpose,
        secretStringValue: SecretValue.unsafePlainText(SECRET_NOT_SET),
        // The value outlives the stack, as the database it belongs with does (a retained cluster snapshot).
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `${def.name} is written once by its function (the first admin key); rotating it is revoking the key and creating another through the API`,
      });
      this.byName.set(def.name, secret);
    }
  }

  get(name: string): Secret {
    const s = this.byName.get(name);
    if (!s) throw new Error(`no secret named ${name} in the topology`);
    return s;
  }
}

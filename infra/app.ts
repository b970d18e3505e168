// CDK entry point (cdk.json: `npx tsx infra/app.ts`): one stage of Framewise, env-agnostic, built from
// infra/topology.ts. `-c stage=<name>` (default dev) names it; `-c alarmEmail=<address>` subscribes an operator.
import { App, Validations } from 'aws-cdk-lib';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { FramewiseChecks } from './cdk/nag.ts';
import { framewiseStage } from './cdk/stack.ts';

const app = new App();
// cdk-nag's AwsSolutions checks: synth fails on any finding not acknowledged next to its resource.
Validations.of(app).addPlugins(new FramewiseChecks(app));

// `-c framewise:skip-bundling=true` synthesizes without running esbuild (fast checks). The CLI refuses `-c aws:cdk:bundling-stacks=[]` (reserved `aws:` prefix), hence this switch.
const skip = app.node.tryGetContext('framewise:skip-bundling');
if (skip === true || skip === 'true' || skip === '1') app.node.setContext(BUNDLING_STACKS, []);

const text = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};
framewiseStage(app, { stage: text('stage'), alarmEmail: text('alarmEmail') });

// CDK entry point (cdk.json: `npx tsx infra/app.ts`). One env-agnostic stack, built from infra/topology.ts.
import { App } from 'aws-cdk-lib';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import { FramewiseStack } from './cdk/stack.ts';

const app = new App();

// `-c framewise:skip-bundling=true` synthesizes without running esbuild (fast checks). The CLI refuses `-c aws:cdk:bundling-stacks=[]` (reserved `aws:` prefix), hence this switch.
const skip = app.node.tryGetContext('framewise:skip-bundling');
if (skip === true || skip === 'true' || skip === '1') app.node.setContext(BUNDLING_STACKS, []);

new FramewiseStack(app, 'Framewise');

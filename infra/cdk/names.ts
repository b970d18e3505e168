// Names and conventions shared by the CDK constructs and their tests. Derived from the topology only.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { Topology } from '../topology.ts';

/** Repository root (two levels above infra/cdk). Paths in the topology are relative to it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Tag put on every resource that materializes a topology entry, value `<kind>:<name>`
 * (e.g. `function:ingest-probe`, `dlq:video-ingest`). Operators can find resources by it and the
 * tests use it to tell topology resources from the ones CDK adds (custom-resource handlers etc.).
 */
export const TOPOLOGY_TAG = 'framewise:topology';
export type TopologyKind = 'bucket' | 'table' | 'queue' | 'dlq' | 'function' | 'state-machine';
export const topologyTagValue = (kind: TopologyKind, name: string): string => `${kind}:${name}`;

/** PascalCase of a topology name, used for construct ids (`video-ingest` -> `VideoIngest`). */
export const pascal = (name: string): string =>
  name.split(/[-_/\s]/).filter(Boolean).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');

/** One deployment of the topology: `npx cdk deploy -c stage=<name>`; stages live side by side in one account. */
export interface Deployment {
  readonly topology: Topology;
  readonly stage: string;
}

/** A stage is short and plain, so that every physical name that carries it stays within AWS's limits. */
export const STAGE_PATTERN = /^[a-z][a-z0-9]{0,11}$/;
export const DEFAULT_STAGE = 'dev';

export function checkStage(stage: string): string {
  if (!STAGE_PATTERN.test(stage)) throw new Error(`stage "${stage}": use 1 to 12 characters, a-z first, then a-z or 0-9 (e.g. dev, prod, ci)`);
  return stage;
}

/** Physical name of a resource of this deployment, e.g. `framewise-dev-video-ingest`. */
export const physicalName = (d: Deployment, name: string): string => `${d.topology.app}-${d.stage}-${name}`;
/** CloudFormation stack name of a part of this deployment, e.g. `framewise-dev-foundation`, `framewise-dev-ingest`. */
export const stackName = (d: Deployment, part: string): string => physicalName(d, part);

/**
 * Fixed physical name of a state machine. Functions build the ARN from it with Stack.formatArn instead
 * of referencing the construct, so a function may start a state machine that invokes it without a cycle,
 * and the jobs context may start the state machines of the contexts above it without depending on their stacks.
 */
export const stateMachineName = (d: Deployment, sm: string): string => physicalName(d, sm);
export const queuePhysicalName = (d: Deployment, queue: string): string => physicalName(d, queue);

export function lambdaRuntime(t: Topology): Runtime {
  const runtimes: Record<Topology['settings']['lambdaRuntime'], Runtime> = { 'nodejs22.x': Runtime.NODEJS_22_X };
  const runtime = runtimes[t.settings.lambdaRuntime];
  if (!runtime) throw new Error(`unsupported lambda runtime ${t.settings.lambdaRuntime}`);
  return runtime;
}

/** settings.logRetentionDays as a CloudWatch Logs retention; throws for a value CloudWatch does not offer. */
export function logRetention(t: Topology): RetentionDays {
  const days = t.settings.logRetentionDays;
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE);
  if (!allowed.includes(days)) {
    throw new Error(`settings.logRetentionDays ${days} is not a CloudWatch retention (${allowed.join(', ')})`);
  }
  return days as RetentionDays;
}

/** Seconds in a `rate(n unit)` expression, or undefined for cron expressions. */
export function rateSeconds(expression: string): number | undefined {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const unit = m[2]!.replace(/s$/, '');
  const factor = unit === 'minute' ? 60 : unit === 'hour' ? 3600 : 86400;
  return Number(m[1]) * factor;
}

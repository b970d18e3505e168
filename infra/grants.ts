// What a function may do, as IAM-like statements built from its topology entry alone. CDK turns each statement
// into an IAM policy statement (with its ARNs as tokens); the local cloud's access gate (infra/local/access.ts)
// decides every request of a function's credentials with `allows`, so both refuse the same undeclared use.
import type { BucketAccess, FunctionDef } from './topology.ts';

export interface Statement {
  readonly actions: readonly string[];
  /** ARNs, `*` matching any run of characters (as IAM's wildcard does). */
  readonly resources: readonly string[];
  /** IAM's StringLike: the request's value of each key must match one of the patterns. */
  readonly conditions?: { readonly StringLike: Readonly<Record<string, readonly string[]>> };
}

/** The ARNs of the resources a function may use (tokens in CDK, local ARNs in the local cloud). */
export interface ResourceArns {
  bucketArn(bucket: string): string;
  tableArn(table: string): string;
  queueArn(queue: string): string;
  stateMachineArn(stateMachine: string): string;
  /** The ARN of every execution of the state machine (ends in `*`). */
  executionsArn(stateMachine: string): string;
  secretArn(secret: string): string;
}

const reads = (a: BucketAccess) => a === 'read' || a === 'readwrite';
const writes = (a: BucketAccess) => a === 'write' || a === 'readwrite';
const deletes = (a: BucketAccess) => a === 'delete';
const restores = (a: BucketAccess) => a === 'restore';

/** Reading an object (GetObject answers HeadObject too). */
export const S3_READ_OBJECT = ['s3:GetObject'] as const;
/** Writing an object; CreateMultipartUpload, UploadPart and CompleteMultipartUpload are s3:PutObject in IAM. */
export const S3_WRITE_OBJECT = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'] as const;
/** Deleting an object (one DeleteObject, or each key of a DeleteObjects). */
export const S3_DELETE_OBJECT = ['s3:DeleteObject'] as const;
/** Asking for a readable copy of an archived object (RestoreObject); reading it is s3:GetObject. */
export const S3_RESTORE_OBJECT = ['s3:RestoreObject'] as const;
export const DYNAMODB_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'] as const;
export const DYNAMODB_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:DescribeTable'] as const;
/** A secret's value, read and replaced (the bootstrap writes the first admin key into its secret). */
export const SECRET_READ_WRITE = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue'] as const;
export const SQS_SEND = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] as const;
/** On the state machine, and on its executions. */
export const STATE_MACHINE_ACTIONS = {
  stateMachine: ['states:StartExecution', 'states:ListExecutions'],
  execution: ['states:DescribeExecution', 'states:StopExecution'],
} as const;

export function grantsOf(def: FunctionDef, arns: ResourceArns): Statement[] {
  const statements: Statement[] = [];
  for (const b of def.uses.buckets ?? []) {
    const bucket = arns.bucketArn(b.name);
    const objects = b.prefixes.map((p) => `${bucket}/${p}*`);
    const actions = [
      ...(reads(b.access) ? S3_READ_OBJECT : []), ...(writes(b.access) ? S3_WRITE_OBJECT : []), ...(deletes(b.access) ? S3_DELETE_OBJECT : []),
      ...(restores(b.access) ? S3_RESTORE_OBJECT : []),
    ];
    statements.push({ actions, resources: objects });
    if (reads(b.access) || deletes(b.access)) {
      statements.push({ actions: ['s3:ListBucket'], resources: [bucket], conditions: { StringLike: { 's3:prefix': b.prefixes.map((p) => `${p}*`) } } });
    }
  }
  for (const t of def.uses.tables ?? []) {
    const table = arns.tableArn(t.name);
    const actions = [...new Set([...(reads(t.access) ? DYNAMODB_READ : []), ...(writes(t.access) ? DYNAMODB_WRITE : [])])];
    statements.push({ actions, resources: [table, `${table}/index/*`] });
  }
  const queues = def.uses.queues ?? [];
  if (queues.length > 0) statements.push({ actions: [...SQS_SEND], resources: queues.map((q) => arns.queueArn(q)) });
  const machines = def.uses.stateMachines ?? [];
  if (machines.length > 0) {
    statements.push({ actions: [...STATE_MACHINE_ACTIONS.stateMachine], resources: machines.map((m) => arns.stateMachineArn(m)) });
    statements.push({ actions: [...STATE_MACHINE_ACTIONS.execution], resources: machines.map((m) => arns.executionsArn(m)) });
  }
  const secrets = def.uses.secrets ?? [];
  if (secrets.length > 0) statements.push({ actions: [...SECRET_READ_WRITE], resources: secrets.map((x) => arns.secretArn(x)) });
  return statements;
}

/** One request as IAM sees it: the action, the resource's ARN and the request's condition keys. */
export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

const wildcard = (pattern: string): RegExp =>
  new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
const matches = (pattern: string, value: string): boolean => wildcard(pattern).test(value);

/** Whether some statement allows the request (IAM's default deny: nothing else is allowed). */
export function allows(statements: readonly Statement[], request: Request): boolean {
  return statements.some(
    (s) =>
      s.actions.includes(request.action) &&
      s.resources.some((r) => matches(r, request.resource)) &&
      Object.entries(s.conditions?.StringLike ?? {}).every(([key, patterns]) => {
        const value = request.context?.[key];
        return value !== undefined && patterns.some((p) => matches(p, value));
      }),
  );
}

// Names, ARNs and URLs of the local cloud's resources, from the topology's logical names.
import { secretName, topology } from '../topology.ts';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

export const localName = (name: string): string => `${topology.app}-${name}`;
export const localFunctionArn = (fn: string): string => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn}`;
export const localStateMachineArn = (sm: string): string => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${localName(sm)}`;
export const localQueueUrl = (sqsEndpoint: string, queue: string): string => `${sqsEndpoint}/${ACCOUNT}/${localName(queue)}`;
/** The stage of the local cloud in secret names: `framewise/local/admin-api-key`. */
export const LOCAL_STAGE = 'local';
export const localSecretName = (secret: string): string => secretName(LOCAL_STAGE, secret);

/** The ARNs IAM would see for the local resources (the access gate matches requests against them). */
export const localArns = {
  bucketArn: (bucket: string): string => `arn:aws:s3:::${localName(bucket)}`,
  tableArn: (table: string): string => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${localName(table)}`,
  queueArn: (queue: string): string => `arn:aws:sqs:${REGION}:${ACCOUNT}:${localName(queue)}`,
  stateMachineArn: localStateMachineArn,
  executionsArn: (sm: string): string => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${localName(sm)}:*`,
  secretArn: (secret: string): string => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${localSecretName(secret)}`,
};

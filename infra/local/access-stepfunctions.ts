// The access gate of the local Step Functions: each call as the IAM action on its state machine or execution
// (the server answers a refusal with AccessDeniedException, in its own AWS JSON 1.0 shape).
import type { Request } from '../grants.ts';

/** The IAM request of one Step Functions call, from its action and JSON input. */
export function stepFunctionsRequest(action: string, input: Record<string, unknown>): Request {
  const arn = (field: string) => (typeof input[field] === 'string' ? (input[field] as string) : '*');
  const resource = 'executionArn' in input ? arn('executionArn') : 'stateMachineArn' in input ? arn('stateMachineArn') : '*';
  return { action: `states:${action}`, resource };
}

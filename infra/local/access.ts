// The local cloud's IAM: each function signs its requests with credentials of its own, and the local S3, SQS,
// DynamoDB and Step Functions refuse what its grants (infra/grants.ts) do not allow, as AWS would refuse it.
// The check sits in front of each service, one small module per protocol (access-s3sqs.ts for fauxqs's
// Fastify app, access-dynamodb.ts as a proxy in front of dynalite, the Step Functions server's own hook), because
// the request's shape (path and query, JSON body, target header) and its refusal differ per protocol; what is
// allowed is decided here, once. Requests signed with any other key (the cloud itself, tests, the CLI,
// `aws --endpoint-url`) keep full access: they are not functions.
import { allows, grantsOf, type Request, type Statement } from '../grants.ts';
import type { Topology } from '../topology.ts';
import { ACCOUNT, localArns } from './names.ts';

/** The secret of every function's local access key (the key id alone tells functions apart). */
const FUNCTION_SECRET = 'local';

/** A function's local access key id, e.g. `LOCALFNINGEST_PROBE` for ingest-probe. */
export const functionAccessKeyId = (fn: string): string => `LOCALFN${fn.replace(/-/g, '_').toUpperCase()}`;

export const functionCredentials = (fn: string): { accessKeyId: string; secretAccessKey: string } => ({
  accessKeyId: functionAccessKeyId(fn),
  secretAccessKey: FUNCTION_SECRET,
});

/** The access key id a request is signed with: SigV4's Authorization header, or a presigned URL's X-Amz-Credential. */
export function accessKeyIdOf(headers: Readonly<Record<string, string | string[] | undefined>>, url: string): string | undefined {
  const authorization = headers.authorization;
  const header = /Credential=([^/,\s]+)\//.exec(Array.isArray(authorization) ? authorization.join(',') : (authorization ?? ''));
  if (header) return header[1];
  const credential = new URL(url, 'http://local').searchParams.get('X-Amz-Credential');
  return credential?.split('/')[0] || undefined;
}

export class AccessPolicy {
  private readonly byKey = new Map<string, { fn: string; statements: Statement[] }>();

  /** `log` hears of every refusal (AWS has CloudTrail for that): a function failing locally says why. */
  constructor(
    topology: Topology,
    private readonly log: (line: object) => void = () => undefined,
  ) {
    for (const def of topology.functions) this.byKey.set(functionAccessKeyId(def.name), { fn: def.name, statements: grantsOf(def, localArns) });
  }

  /** Access key ids and their secrets (the presign check verifies functions' presigned URLs with them). */
  secrets(): Map<string, string> {
    return new Map([...this.byKey.keys()].map((key) => [key, FUNCTION_SECRET]));
  }

  /** Undefined when the request may go on; otherwise AWS's words for the refusal. */
  refusal(accessKeyId: string | undefined, requests: readonly Request[]): string | undefined {
    const principal = accessKeyId === undefined ? undefined : this.byKey.get(accessKeyId);
    if (!principal) return undefined;
    const denied = requests.find((r) => !allows(principal.statements, r));
    if (!denied) return undefined;
    this.log({ level: 'ERROR', message: 'access denied: the function does not declare this use', fn: principal.fn, action: denied.action, resource: denied.resource });
    return (
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/${principal.fn}/${principal.fn} is not authorized to perform: ${denied.action} ` +
      `on resource: ${denied.resource} because no identity-based policy allows the ${denied.action} action`
    );
  }
}

// A function's environment, computed from its topology entry alone, for both materializations: CDK hands it
// tokens (bucket names, queue URLs, secret ARNs CloudFormation resolves), the local cloud real names, URLs and
// endpoints. A function sees only what it declares, so a use missing from its entry fails in both places.
import { bucketEnv, cdnEnv, folderEnv, queueEnv, secretEnv, stateMachineEnv, tableEnv, type FunctionDef, type Topology } from './topology.ts';

/** Where each resource a function may use is found: a name, URL or ARN (a CDK token in AWS). */
export interface ResourceLocations {
  bucketName(bucket: string): string;
  tableName(table: string): string;
  queueUrl(queue: string): string;
  stateMachineArn(stateMachine: string): string;
  /** A secret's id for Secrets Manager (its ARN in AWS, its name locally). */
  secretId(secret: string): string;
  /** Where a CDN is and the key its URLs are signed with; absent where there is no CDN (the local cloud). */
  cdn?(cdn: string): CdnLocation;
}

export interface CdnLocation {
  readonly domainName: string;
  readonly keyPairId: string;
  /** The id of the secret holding the private key (its ARN in AWS). */
  readonly keySecretId: string;
}

/** What the platform adds around the resources: each group only to the functions that need it. */
export interface PlatformEnvironment {
  /** Every function: region, endpoints and credentials locally; source maps in AWS. */
  readonly all: Readonly<Record<string, string>>;
  /** Functions that use PostgreSQL (a connection string locally; the proxy and its secret in AWS). */
  readonly postgres: Readonly<Record<string, string>>;
  /** Functions that use MongoDB (a URI locally; its secret in AWS). */
  readonly mongodb: Readonly<Record<string, string>>;
  /** Where a function's bundled folders are (`/var/task` in Lambda; the project itself locally). */
  readonly bundleRoot: string;
  /** Functions with each layer (the binaries' paths). */
  readonly layers: Readonly<Record<FunctionDef['layers'][number], Readonly<Record<string, string>>>>;
}

/** Upload settings of the topology, as functions/lib/config.ts reads them. */
export const uploadSettingsEnvironment = (settings: Topology['settings']): Record<string, string> => ({
  PRESIGNED_URL_SECONDS: String(settings.presignedUrlSeconds),
  MULTIPART_THRESHOLD_BYTES: String(settings.multipartThresholdBytes),
  MULTIPART_PART_BYTES: String(settings.multipartPartBytes),
  MAX_UPLOAD_BYTES: String(settings.maxUploadBytes),
  CHECK_IN_API_MAX_BYTES: String(settings.checkInApiMaxBytes),
});

export function functionEnvironment(
  def: FunctionDef,
  topology: Topology,
  resources: ResourceLocations,
  platform: PlatformEnvironment,
): Record<string, string> {
  const env: Record<string, string> = { POWERTOOLS_SERVICE_NAME: topology.app, ...platform.all };
  for (const layer of def.layers) Object.assign(env, platform.layers[layer]);
  const buckets = def.uses.buckets ?? [];
  for (const b of buckets) env[bucketEnv(b.name)] = resources.bucketName(b.name);
  if (buckets.length > 0) Object.assign(env, uploadSettingsEnvironment(topology.settings));
  for (const t of def.uses.tables ?? []) env[tableEnv(t.name)] = resources.tableName(t.name);
  for (const q of def.uses.queues ?? []) env[queueEnv(q)] = resources.queueUrl(q);
  for (const sm of def.uses.stateMachines ?? []) {
    if (!topology.stateMachines.some((s) => s.name === sm)) throw new Error(`function ${def.name} uses unknown state machine ${sm}`);
    env[stateMachineEnv(sm)] = resources.stateMachineArn(sm);
  }
  for (const secret of def.uses.secrets ?? []) {
    if (!topology.secrets.some((x) => x.name === secret)) throw new Error(`function ${def.name} uses unknown secret ${secret}`);
    env[secretEnv(secret)] = resources.secretId(secret);
  }
  for (const cdn of def.uses.cdns ?? []) {
    const cdnDef = topology.cdns.find((c) => c.name === cdn);
    if (!cdnDef) throw new Error(`function ${def.name} uses unknown CDN ${cdn}`);
    const where = resources.cdn?.(cdn);
    if (!where) continue;
    const names = cdnEnv(cdn);
    Object.assign(env, {
      [names.domain]: where.domainName,
      [names.keyPairId]: where.keyPairId,
      [names.keySecretId]: where.keySecretId,
      [names.signedUrlSeconds]: String(cdnDef.signedUrlSeconds),
    });
  }
  for (const folder of def.bundledFolders ?? []) env[folderEnv(folder)] = `${platform.bundleRoot}/${folder}`;
  if (def.uses.postgres) Object.assign(env, platform.postgres);
  if (def.uses.mongodb) Object.assign(env, platform.mongodb, { MONGODB_DATABASE: topology.settings.mongoDatabase });
  return env;
}

// The slides CDN's key pair as a deploy makes it (the custom resource's handler, run here against the local cloud's
// Secrets Manager through the SDK), and a pyramid file's URL where the CDN is configured (AWS): signed with the
// private key the handler put in the secret, accepted by CloudFront's own check (test/support/cloudfront.ts) with the
// public key the handler answered, for its lifetime; the viewer's CSP admits the CDN. Without the CDN (the local
// cloud), the URL is a presigned GET on the S3 endpoint.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import { fileOrigin, fileUrl } from '../../functions/slides/file-url.ts';
import { viewerPolicy } from '../../functions/slides/viewer.ts';
import { KEY_PAIR_HANDLER } from '../../infra/cdk/cdn.ts';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { cdnEnv, topology } from '../../infra/topology.ts';
import { cloudFrontVerdict } from '../support/cloudfront.ts';

const endpoints = inject('endpoints');
const cdn = topology.cdns.find((c) => c.name === 'slides')!;
const names = cdnEnv('slides');
const domain = 'd111111abcdef8.cloudfront.net';
const keyPairId = 'K2JCJMDEHXQW5F';

type KeyPairEvent = { RequestType: 'Create' | 'Update' | 'Delete'; PhysicalResourceId?: string; ResourceProperties: { SecretId: string } };
type KeyPairHandler = (event: KeyPairEvent) => Promise<{ PhysicalResourceId: string; Data?: { PublicKey: string } }>;
/** The custom resource's inline code, loaded as Lambda loads it (CommonJS, the runtime's SDK). */
function keyPairHandler(): KeyPairHandler {
  const module = { exports: {} as { handler: KeyPairHandler } };
  new Function('require', 'exports', 'module', KEY_PAIR_HANDLER)(createRequire(import.meta.url), module.exports, module);
  return module.exports.handler;
}
const key = 'slides/6f1c2a9e-0b1d-4c36-9d0e-2f4c7f0a1b2c/iiif/0,0,256,256/256,/0/default.jpg';
const now = () => Math.floor(Date.now() / 1000);

let client: SecretsManagerClient;
let secretArn: string;
/** The public key the deploy's key pair answered. */
let publicKey: string;

beforeAll(async () => {
  Object.assign(process.env, localAdminEnvironment(endpoints));
  client = new SecretsManagerClient({ region: process.env.AWS_REGION ?? 'us-east-1' });
  // what the stack's secret holds before the key-pair resource runs
  const secret = await client.send(new CreateSecretCommand({ Name: `test/${randomBytes(4).toString('hex')}/cdn-signing-key`, SecretString: SECRET_NOT_SET }));
  secretArn = secret.ARN!;
});

afterAll(() => {
  client.destroy();
  for (const name of Object.values(names)) delete process.env[name];
});

describe('the key pair a deploy makes', () => {
  it('puts a new private key in the secret on create and answers its public key; keeps it on update; deletes nothing', async () => {
    const handler = keyPairHandler();
    const created = await handler({ RequestType: 'Create', ResourceProperties: { SecretId: secretArn } });
    expect(created.PhysicalResourceId).toBe(secretArn);
    publicKey = created.Data!.PublicKey;
    expect(publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    const held = (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString!;
    expect(held).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const updated = await handler({ RequestType: 'Update', PhysicalResourceId: secretArn, ResourceProperties: { SecretId: secretArn } });
    expect(updated).toEqual({ PhysicalResourceId: secretArn, Data: { PublicKey: publicKey } });
    expect(await handler({ RequestType: 'Delete', PhysicalResourceId: secretArn, ResourceProperties: { SecretId: secretArn } })).toEqual({ PhysicalResourceId: secretArn });
    expect((await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString).toBe(held);

    Object.assign(process.env, { [names.domain]: domain, [names.keyPairId]: keyPairId, [names.keySecretId]: secretArn, [names.signedUrlSeconds]: String(cdn.signedUrlSeconds) });
  });
});

describe('slide files through the CDN', () => {
  it('are CloudFront signed URLs of the object, accepted for the declared lifetime and not after', async () => {
    const before = now();
    const { url, expiresIn } = await fileUrl(key);
    expect(expiresIn).toBe(cdn.signedUrlSeconds);
    expect(url.startsWith(`https://${domain}/slides/6f1c2a9e-0b1d-4c36-9d0e-2f4c7f0a1b2c/iiif/0%2C0%2C256%2C256/256%2C/0/default.jpg?Expires=`)).toBe(true);
    const expires = Number(new URL(url).searchParams.get('Expires'));
    expect(expires).toBeGreaterThanOrEqual(before + cdn.signedUrlSeconds);
    expect(expires).toBeLessThanOrEqual(now() + cdn.signedUrlSeconds);
    const trusted = { keyPairId, publicKey };
    expect(cloudFrontVerdict(url, trusted, now())).toBe('accepted');
    expect(cloudFrontVerdict(url, trusted, expires)).toBe('expired');
    expect(cloudFrontVerdict(url.replace('/0/default.jpg', '/90/default.jpg'), trusted, now())).toBe('signature does not match');
  });

  it("lead the viewer's CSP to the CDN's origin", async () => {
    expect(await fileOrigin()).toBe(`https://${domain}`);
    expect(viewerPolicy(await fileOrigin())).toContain(`connect-src 'self' https://${domain}`);
  });

  it('are presigned S3 GETs where no CDN is configured', async () => {
    const saved = process.env[names.domain];
    delete process.env[names.domain];
    try {
      const { url, expiresIn } = await fileUrl(key);
      expect(new URL(url).origin).toBe(new URL(endpoints.s3).origin);
      expect(url).toContain('X-Amz-Signature=');
      expect(expiresIn).toBeLessThanOrEqual(900);
      expect(await fileOrigin()).toBe(new URL(endpoints.s3).origin);
    } finally {
      process.env[names.domain] = saved;
    }
  });
});

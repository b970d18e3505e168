// Where the slides CDN is configured (AWS), a pyramid file's URL is signed with the private key the deploy put in
// Secrets Manager (read here from the local cloud's Secrets Manager, through the SDK) and CloudFront's own check
// (test/support/cloudfront.ts) accepts it for its lifetime; the viewer's CSP admits the CDN. Without it (the local
// cloud), the URL is a presigned GET on the S3 endpoint.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fileOrigin, fileUrl } from '../../functions/slides/file-url.ts';
import { viewerPolicy } from '../../functions/slides/viewer.ts';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { cdnEnv, topology } from '../../infra/topology.ts';
import { cloudFrontVerdict } from '../support/cloudfront.ts';

const endpoints = inject('endpoints');
const cdn = topology.cdns.find((c) => c.name === 'slides')!;
const names = cdnEnv('slides');
const domain = 'd111111abcdef8.cloudfront.net';
const keyPairId = 'K2JCJMDEHXQW5F';
const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const key = 'slides/6f1c2a9e-0b1d-4c36-9d0e-2f4c7f0a1b2c/iiif/0,0,256,256/256,/0/default.jpg';
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  Object.assign(process.env, localAdminEnvironment(endpoints));
  const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: endpoints.secretsmanager });
  const secret = await client.send(new CreateSecretCommand({ Name: `test/${randomBytes(4).toString('hex')}/cdn-signing-key`, SecretString: privateKey }));
  client.destroy();
  Object.assign(process.env, { [names.domain]: domain, [names.keyPairId]: keyPairId, [names.keySecretId]: secret.ARN!, [names.signedUrlSeconds]: String(cdn.signedUrlSeconds) });
});

afterAll(() => {
  for (const name of Object.values(names)) delete process.env[name];
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

// The connection functions/lib/mongo.ts makes of a MongoDB secret: a DocumentDB URI built from the cluster's
// generated credentials with the bundled RDS CAs, or an external URI as it is.
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DOCUMENTDB_CA, mongoConnectionFromSecret } from '../../functions/lib/mongo.ts';

const commonName = (pem: string) => /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(pem).subject)?.[1] ?? '';

describe('the DocumentDB CA bundle', () => {
  it('holds the RDS roots of every generation DocumentDB uses, for each region, and no other CA', () => {
    const names = DOCUMENTDB_CA.map(commonName);
    expect(names.length).toBeGreaterThan(50);
    for (const name of names) expect(name).toMatch(/^Amazon RDS /);
    for (const region of ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2']) {
      for (const generation of ['RSA2048 G1', 'RSA4096 G1', 'ECC384 G1']) expect(names).toContain(`Amazon RDS ${region} Root CA ${generation}`);
    }
    expect(names).not.toContain('Amazon Root CA 1');
    // CAs only, each a root or issued by one in the bundle: every chain ends inside it
    const certs = DOCUMENTDB_CA.map((pem) => new X509Certificate(pem));
    for (const cert of certs) {
      expect(cert.ca, cert.subject).toBe(true);
      expect(certs.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey)), cert.subject).toBe(true);
    }
  });
});

describe('mongoConnectionFromSecret', () => {
  const secret = { engine: 'mongo', host: 'framewise-mongo.cluster-abc.us-east-1.docdb.amazonaws.com', port: 27017, username: 'framewise_admin', password: 'p@ss:w/rd%' };

  it('builds the DocumentDB URI from the cluster secret: TLS with the bundled CAs, replica set rs0, no retryable writes', () => {
    const { uri, options } = mongoConnectionFromSecret(JSON.stringify(secret));
    const url = new URL(uri);
    expect(url.protocol).toBe('mongodb:');
    expect(url.hostname).toBe(secret.host);
    expect(url.port).toBe('27017');
    expect(decodeURIComponent(url.username)).toBe(secret.username);
    expect(decodeURIComponent(url.password)).toBe(secret.password);
    expect(Object.fromEntries(url.searchParams)).toEqual({ tls: 'true', replicaSet: 'rs0', readPreference: 'primary', retryWrites: 'false' });
    expect(options.ca).toEqual([...DOCUMENTDB_CA]);
  });

  it('takes any other secret as the URI itself (an external MongoDB), without the RDS CAs', () => {
    expect(mongoConnectionFromSecret(' mongodb+srv://u:p@cluster0.example.mongodb.net/?retryWrites=true\n')).toEqual({
      uri: 'mongodb+srv://u:p@cluster0.example.mongodb.net/?retryWrites=true',
      options: {},
    });
  });

  it('refuses JSON without the fields of a connection', () => {
    expect(() => mongoConnectionFromSecret(JSON.stringify({ username: 'u', password: 'p' }))).toThrow(/host, port, username or password/);
  });
});

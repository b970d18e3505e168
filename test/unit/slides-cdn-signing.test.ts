// A pyramid file's CloudFront signed URL: CloudFront's own check (test/support/cloudfront.ts) accepts it until it
// expires and refuses it once its path, its expiry or its key differ.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signCloudFrontUrl } from '../../functions/slides/file-url.ts';
import { cloudFrontVerdict } from '../support/cloudfront.ts';

const pem = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const { publicKey, privateKey } = pem();
const keyPairId = 'K2JCJMDEHXQW5F';
const trusted = { keyPairId, publicKey };
const resource = 'https://d111111abcdef8.cloudfront.net/slides/6f1c2a9e-0b1d-4c36-9d0e-2f4c7f0a1b2c/image_files/12/3_4.jpg';
const now = 1_767_290_000;
const expires = now + 900;

describe('CloudFront signed URLs (canned policy)', () => {
  it('are accepted by CloudFront until they expire, and refused from then on', () => {
    const url = signCloudFrontUrl(resource, expires, { keyPairId, privateKey });
    expect(url.startsWith(`${resource}?Expires=${expires}&Signature=`)).toBe(true);
    expect(url.endsWith(`&Key-Pair-Id=${keyPairId}`)).toBe(true);
    // URL-safe: none of the characters CloudFront replaces are left in the signature
    expect(/Signature=([^&]+)/.exec(url)![1]).toMatch(/^[A-Za-z0-9~_-]+$/);
    expect(cloudFrontVerdict(url, trusted, now)).toBe('accepted');
    expect(cloudFrontVerdict(url, trusted, expires - 1)).toBe('accepted');
    expect(cloudFrontVerdict(url, trusted, expires)).toBe('expired');
    expect(cloudFrontVerdict(url, trusted, expires + 3600)).toBe('expired');
  });

  it('are refused once the path or the expiry is changed, or under another key', () => {
    const url = signCloudFrontUrl(resource, expires, { keyPairId, privateKey });
    expect(cloudFrontVerdict(url.replace('/12/3_4.jpg', '/12/3_5.jpg'), trusted, now)).toBe('signature does not match');
    expect(cloudFrontVerdict(url.replace('/slides/6f1c', '/slides/7f1c'), trusted, now)).toBe('signature does not match');
    expect(cloudFrontVerdict(url.replace(`Expires=${expires}`, `Expires=${expires + 3600}`), trusted, expires + 10)).toBe('signature does not match');
    expect(cloudFrontVerdict(url, { keyPairId, publicKey: pem().publicKey }, now)).toBe('signature does not match');
    expect(cloudFrontVerdict(url, { keyPairId: 'K3OTHERKEYPAIR', publicKey }, now)).toBe('unknown key pair');
  });

  it('sign a resource with its own query string, and a path with characters CloudFront compares encoded', () => {
    const iiif = 'https://d111111abcdef8.cloudfront.net/slides/6f1c/iiif/0%2C0%2C256%2C256/256%2C/0/default.jpg?v=2';
    const url = signCloudFrontUrl(iiif, expires, { keyPairId, privateKey });
    expect(url.startsWith(`${iiif}&Expires=`)).toBe(true);
    expect(cloudFrontVerdict(url, trusted, now)).toBe('accepted');
    expect(cloudFrontVerdict(url.replace('?v=2', '?v=3'), trusted, now)).toBe('signature does not match');
  });
});

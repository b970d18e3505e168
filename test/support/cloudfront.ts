// How CloudFront checks a URL signed with a canned policy, written from its documentation and independent of the
// signing code: the policy rebuilt from the URL's resource and Expires, the signature's URL-safe base64 undone,
// RSA-SHA1 verified with the key group's public key, and the time checked against Expires.
import { verify, type KeyObject } from 'node:crypto';

const SIGNED_PARAMS = ['Expires', 'Signature', 'Key-Pair-Id'];

/** Why CloudFront would refuse `signedUrl` at `nowSeconds`, or `accepted`. */
export function cloudFrontVerdict(signedUrl: string, trusted: { keyPairId: string; publicKey: KeyObject | string }, nowSeconds: number): string {
  const url = new URL(signedUrl);
  const expires = url.searchParams.get('Expires');
  const signature = url.searchParams.get('Signature');
  if (!expires || !/^\d+$/.test(expires) || !signature) return 'missing Expires or Signature';
  if (url.searchParams.get('Key-Pair-Id') !== trusted.keyPairId) return 'unknown key pair';
  // the resource is the URL as requested without the signing parameters (they come last)
  const resource = signedUrl.slice(0, signedUrl.search(new RegExp(`[?&](${SIGNED_PARAMS.join('|')})=`)));
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  const bytes = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
  if (!verify('RSA-SHA1', Buffer.from(policy), trusted.publicKey, bytes)) return 'signature does not match';
  if (nowSeconds >= Number(expires)) return 'expired';
  return 'accepted';
}

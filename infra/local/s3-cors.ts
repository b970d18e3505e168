// S3's CORS, which fauxqs lacks: a bucket with CORS rules answers a browser's preflight and adds the
// Access-Control-* headers to its answers, as S3 does; other buckets answer neither (a browser's script then sees
// nothing). One rule per bucket is all the topology declares.
import { BROWSER_BUCKET_CORS } from '../topology.ts';
import { s3ErrorXml, type HookReply } from './s3-xml.ts';

export type BucketCors = typeof BROWSER_BUCKET_CORS;

interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

const bucketOf = (url: string): string => decodeURIComponent(new URL(url, 'http://local').pathname.split('/')[1] ?? '');
const header = (request: Request, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const allowOrigin = (rule: BucketCors, origin: string): string | undefined =>
  (rule.allowedOrigins as readonly string[]).includes('*') ? '*' : (rule.allowedOrigins as readonly string[]).includes(origin) ? origin : undefined;

/**
 * Fastify hooks: `onRequest` answers preflights (OPTIONS with Origin and Access-Control-Request-Method) itself, before
 * any access check, as S3 does; `onSend` adds the headers to the answer of a request with an Origin. `rules` gives a
 * bucket's rule, or undefined for a bucket without CORS.
 */
export function s3CorsHooks(rules: (bucket: string) => BucketCors | undefined) {
  return {
    async onRequest(request: Request, reply: HookReply): Promise<HookReply | undefined> {
      if (request.method !== 'OPTIONS') return undefined;
      const origin = header(request, 'origin');
      const method = header(request, 'access-control-request-method');
      const rule = rules(bucketOf(request.url));
      const allowed = rule && origin && method && (rule.allowedMethods as readonly string[]).includes(method) ? allowOrigin(rule, origin) : undefined;
      if (!rule || !allowed) {
        return reply.code(403).header('content-type', 'application/xml').send(s3ErrorXml('AccessForbidden', 'CORSResponse: This CORS request is not allowed.'));
      }
      const requested = header(request, 'access-control-request-headers');
      return reply
        .code(200)
        .header('access-control-allow-origin', allowed)
        .header('access-control-allow-methods', rule.allowedMethods.join(', '))
        .header('access-control-allow-headers', (rule.allowedHeaders as readonly string[]).includes('*') ? (requested ?? '') : rule.allowedHeaders.join(', '))
        .header('access-control-expose-headers', rule.exposedHeaders.join(', '))
        .header('access-control-max-age', String(rule.maxAgeSeconds))
        .header('vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method')
        .send('');
    },
    async onSend(request: Request, reply: HookReply): Promise<void> {
      const origin = header(request, 'origin');
      const rule = origin ? rules(bucketOf(request.url)) : undefined;
      const allowed = rule && origin && (rule.allowedMethods as readonly string[]).includes(request.method) && allowOrigin(rule, origin);
      if (!allowed) return;
      reply
        .header('access-control-allow-origin', allowed)
        .header('access-control-allow-methods', rule.allowedMethods.join(', '))
        .header('access-control-expose-headers', rule.exposedHeaders.join(', '))
        .header('access-control-max-age', String(rule.maxAgeSeconds))
        .header('vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
    },
  };
}

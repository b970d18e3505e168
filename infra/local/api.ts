// The HTTP API: turns each request into an API Gateway v2 event for the function its route names.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { apiGatewayEvent, compileRoutes, isMalformedPath, matchRoute } from './events.ts';
import type { LocalFunctions } from './functions.ts';
import { API_CORS, type SiteDef } from '../topology.ts';
import { siteFile } from './site.ts';

export interface LocalApi {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': API_CORS.allowHeaders.join(','),
  'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
  'access-control-expose-headers': API_CORS.exposeHeaders.join(','),
};

/** API Gateway's largest request payload (HTTP API: 10 MB); a larger one is a 413 before any function. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** The body, or undefined when it is larger than API Gateway takes (read to its end, so the client hears the answer). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_PAYLOAD_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_PAYLOAD_BYTES ? undefined : Buffer.concat(chunks);
}

/** A body as the function returned it: text, or base64. */
interface Body {
  readonly text: string;
  readonly encoding: 'utf8' | 'base64';
}

// The last base64 body and its bytes: a function serving a cached response returns the same string again and
// again, and decoding it for each response would make this stand-in for API Gateway the cost being measured.
let lastBase64 = { text: '', bytes: Buffer.alloc(0) };
function bytesOf(text: string): Buffer {
  if (text !== lastBase64.text) lastBase64 = { text, bytes: Buffer.from(text, 'base64') };
  return lastBase64.bytes;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Body | string): void {
  const data = typeof body === 'string' ? body : body.encoding === 'base64' ? bytesOf(body.text) : body.text;
  res.writeHead(status, { ...CORS, ...headers, 'content-length': String(Buffer.byteLength(data)) });
  res.end(data);
}

/** Lambda's payload format 2.0: a result without `statusCode` is a 200 with the result as JSON. */
function toResponse(result: unknown): { status: number; headers: Record<string, string>; body: Body } {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const r = result as APIGatewayProxyStructuredResultV2;
    const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, String(v)]));
    if (r.cookies?.length) headers['set-cookie'] = r.cookies.join(', ');
    return { status: r.statusCode ?? 200, headers, body: { text: r.body ?? '', encoding: r.isBase64Encoded ? 'base64' : 'utf8' } };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: { text: typeof result === 'string' ? result : JSON.stringify(result ?? null), encoding: 'utf8' },
  };
}

export async function startApi(opts: {
  port: number;
  routes: readonly { method: string; path: string; fn: string }[];
  functions: LocalFunctions;
  /** The web console, served at `/` (paths the API does not route). */
  site?: { def: SiteDef; root: string; objectOrigin: string };
}): Promise<LocalApi> {
  const routes = compileRoutes(opts.routes);
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS') return send(res, 204, {}, '');
      if (isMalformedPath(url.pathname)) return send(res, 400, { 'content-type': 'application/json' }, '{"message":"Bad Request"}');
      const match = matchRoute(routes, method, url.pathname);
      if (!match && opts.site && (method === 'GET' || method === 'HEAD') && !url.pathname.startsWith('/v1/')) {
        const file = await siteFile(opts.site.root, opts.site.def, url.pathname, opts.site.objectOrigin).catch(() => undefined);
        if (file) {
          res.writeHead(200, { ...file.headers, 'content-length': String(file.body.length) });
          return void res.end(method === 'HEAD' ? undefined : file.body);
        }
      }
      if (!match) return send(res, 404, { 'content-type': 'application/json' }, '{"message":"Not Found"}');
      const body = await readBody(req);
      if (!body) return send(res, 413, { 'content-type': 'application/json' }, '{"message":"Request Entity Too Large"}');
      const event = apiGatewayEvent({
        method,
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ''),
        headers: req.headers,
        body,
        match,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        domainName: req.headers.host ?? '127.0.0.1',
      });
      try {
        const r = toResponse(await opts.functions.invoke(match.fn, event));
        send(res, r.status, r.headers, r.body);
      } catch {
        send(res, 500, { 'content-type': 'application/json' }, '{"message":"Internal Server Error"}');
      }
    })().catch(() => send(res, 500, {}, ''));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

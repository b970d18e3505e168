// A route of the HTTP API: its method and path, who may call it, and the zod schemas of what it takes and
// answers. The same object serves requests (parse params, query and body, call the domain, shape the result) and
// documents itself in the OpenAPI document (lib/openapi.ts), so the two cannot drift apart. Every HTTP function
// declares its routes with defineRoute and serves them with routeTable.
import type { z } from 'zod';
import type { Principal, Role } from './auth.ts';
import { fromPgError } from './dberrors.ts';
import { noContent, parse, type HttpResult, type Route, type Routes } from './http.ts';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** A documented response header, e.g. `etag` or `next-cursor`. */
export type HeaderDocs = Readonly<Record<string, string>>;

export interface RouteDoc {
  readonly key: string;
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path, e.g. /v1/seasons/{id} */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly roles: readonly Role[] | 'public';
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly status: SuccessStatus;
  /** Successes the route answers instead in some cases (a Reply), with the same body: status → when. */
  readonly otherSuccesses?: Readonly<Partial<Record<SuccessStatus, string>>>;
  readonly response?: z.ZodType;
  /** Headers of the success response besides content-type. */
  readonly headers?: HeaderDocs;
  /** The request body is raw bytes of this media type (handed over as `raw`), not JSON. */
  readonly rawBody?: RawBody;
  /** The response is cached with an ETag: `If-None-Match` may answer 304, `Accept-Encoding` picks gzip or br. */
  readonly cached?: boolean;
  /** Other representations of the success response, by media type (e.g. `text/csv`). */
  readonly alternatives?: Readonly<Record<string, string>>;
  /** Error statuses this route can answer besides 400/401/403/415 (404 for ids, 409 for writes). */
  readonly errors: readonly number[];
}

/** 302: the answer is a redirect (a presigned URL in `location`). */
export type SuccessStatus = 200 | 201 | 202 | 204 | 302;

/** A body of bytes (a file's chunk): its media type and what it is, for the OpenAPI document. */
export interface RawBody {
  readonly contentType: string;
  readonly description: string;
}

export interface DefinedRoute extends Route {
  readonly doc: RouteDoc;
}

/** What a handler answers when a bare body will not do: its own status, headers or a raw (compressed) body. */
export class Reply {
  constructor(readonly result: HttpResult) {}
}

export interface RouteInput<P, Q, B> {
  readonly params: Out<P>;
  readonly query: Out<Q>;
  readonly body: Out<B>;
  /** The bytes of a route declared with `rawBody` (empty when none were sent). */
  readonly raw: Buffer;
  readonly principal: Principal;
  /** Request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface RouteSpec<P, Q, B> {
  /** The API Gateway route key, e.g. `GET /v1/seasons/{id}`. */
  readonly key: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** Roles allowed besides admin (admin may do everything), or 'public'. */
  readonly roles: readonly Role[] | 'public';
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly rawBody?: RawBody;
  /** Default: 201 for POST, 204 for DELETE, 200 otherwise. */
  readonly status?: SuccessStatus;
  /** Successes the handler answers instead in some cases (a Reply), with the same body: status → when. */
  readonly otherSuccesses?: Readonly<Partial<Record<SuccessStatus, string>>>;
  readonly response?: z.ZodType;
  readonly headers?: HeaderDocs;
  readonly cached?: boolean;
  readonly alternatives?: Readonly<Record<string, string>>;
  readonly errors?: readonly number[];
  /** Returns the response body, or a Reply for anything else. */
  readonly handle: (input: RouteInput<P, Q, B>) => Promise<unknown>;
}

export function defineRoute<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): DefinedRoute {
  const [method, path] = spec.key.split(' ') as [string, string];
  const status = spec.status ?? (method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200);
  const defaultErrors = [...(spec.params ? [404] : []), ...(method === 'GET' ? [] : [409])];
  return {
    roles: spec.roles,
    rawBody: Boolean(spec.rawBody),
    doc: {
      key: spec.key,
      method: method.toLowerCase() as RouteDoc['method'],
      path,
      summary: spec.summary,
      description: spec.description,
      tag: spec.tag,
      roles: spec.roles,
      params: spec.params,
      query: spec.query,
      body: spec.body,
      rawBody: spec.rawBody,
      status,
      otherSuccesses: spec.otherSuccesses,
      response: spec.response,
      headers: spec.headers,
      cached: spec.cached,
      alternatives: spec.alternatives,
      errors: spec.errors ?? defaultErrors,
    },
    async handle(req): Promise<HttpResult> {
      const input = {
        params: (spec.params ? parse(spec.params, req.params) : undefined) as Out<P>,
        query: (spec.query ? parse(spec.query, req.query) : undefined) as Out<Q>,
        body: (spec.body ? parse(spec.body, req.body) : undefined) as Out<B>,
        raw: spec.rawBody && Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        principal: req.principal,
        headers: req.headers,
      };
      let result: unknown;
      try {
        result = await spec.handle(input);
      } catch (err) {
        throw fromPgError(err) ?? err;
      }
      if (result instanceof Reply) return result.result;
      return status === 204 ? noContent() : { status, body: result };
    },
  };
}

/** The dispatch table of a function's routes, by route key; a key declared twice is a programming error. */
export function routeTable(routes: readonly DefinedRoute[]): Routes {
  const table = Object.fromEntries(routes.map((r) => [r.doc.key, r]));
  if (Object.keys(table).length !== routes.length) throw new Error('a route key is declared twice');
  return table;
}

// A catalog route is a lib/http Route plus the schemas it validates with. The same object serves requests
// (parse params, query and body with zod, call the domain, shape the result) and documents itself in the
// OpenAPI document, so the two cannot drift apart.
import type { z } from 'zod';
import type { Principal, Role } from '../lib/auth.ts';
import { noContent, parse, type HttpResult, type Route } from '../lib/http.ts';
import { fromPgError } from './dberrors.ts';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

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
  readonly status: 200 | 201 | 204;
  readonly response?: z.ZodType;
  /** Error statuses this route can answer besides 400/401/403 (404 for ids, 409 for writes). */
  readonly errors: readonly number[];
}

export interface CatalogRoute extends Route {
  readonly doc: RouteDoc;
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
  readonly status?: 200 | 201 | 204;
  readonly response?: z.ZodType;
  readonly errors?: readonly number[];
  readonly handle: (input: { params: Out<P>; query: Out<Q>; body: Out<B>; principal: Principal }) => Promise<unknown>;
}

export function defineRoute<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>): CatalogRoute {
  const [method, path] = spec.key.split(' ') as [string, string];
  const status = spec.status ?? (method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200);
  const defaultErrors = [...(spec.params ? [404] : []), ...(method === 'GET' ? [] : [409])];
  return {
    roles: spec.roles,
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
      status,
      response: spec.response,
      errors: spec.errors ?? defaultErrors,
    },
    async handle(req): Promise<HttpResult> {
      const input = {
        params: (spec.params ? parse(spec.params, req.params) : undefined) as Out<P>,
        query: (spec.query ? parse(spec.query, req.query) : undefined) as Out<Q>,
        body: (spec.body ? parse(spec.body, req.body) : undefined) as Out<B>,
        principal: req.principal,
      };
      let result: unknown;
      try {
        result = await spec.handle(input);
      } catch (err) {
        throw fromPgError(err) ?? err;
      }
      return status === 204 ? noContent() : { status, body: result };
    },
  };
}

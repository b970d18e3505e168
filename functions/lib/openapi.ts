// The OpenAPI 3.1 document of the whole HTTP API, generated from the routes' own zod schemas (zod-to-openapi).
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { Role } from './auth.ts';
import type { DefinedRoute } from './route.ts';
import { z } from './zod.ts';

/** The error envelope every 4xx and 5xx carries. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'NotFound' }),
      message: z.string(),
      details: z.unknown().nullable(),
    }),
  })
  .openapi('Error');

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'The request does not match the schema, or references something that does not exist',
  401: 'No API key, or one that is not valid (unknown or revoked)',
  403: 'This API key may not perform this action',
  404: 'Not found (for a client key: also what is not granted to it)',
  409: 'Conflict: a unique value is taken, the row is still referenced, or the subject is not in a state that allows it',
  413: 'The request body is larger than 10 MB',
  415: 'The body is not sent as application/json',
};

const CACHED_HEADERS = {
  etag: 'Strong ETag of this representation; send it back as If-None-Match',
  vary: 'accept-encoding',
  'x-cache': '`hit` when the response came from the cache, `miss` when it was built for this request',
};

/** Who may call a route, as the first sentence of its description (admin may call every route). */
const rolesText = (roles: readonly Role[] | 'public'): string =>
  roles === 'public' ? 'Public: no API key.' : `Roles: ${['admin', ...roles].join(', ')}.`;

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const headerObjects = (headers: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' as const } }]));

export function buildOpenApiDocument(routes: readonly DefinedRoute[]): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer fw_...`',
  });
  registry.register('Error', ErrorBody);
  const errorContent = { 'application/json': { schema: ErrorBody } };

  for (const { doc } of routes) {
    const responses: Record<string, ResponseConfig> = {};
    const headers = { ...(doc.cached ? CACHED_HEADERS : {}), ...doc.headers };
    const content = doc.response
      ? {
          'application/json': { schema: doc.response },
          ...Object.fromEntries(Object.entries(doc.alternatives ?? {}).map(([type, description]) => [type, { schema: z.string().openapi({ description }) }])),
        }
      : undefined;
    responses[String(doc.status)] = {
      description:
        doc.status === 202 ? 'Accepted: the work runs in the background'
        : doc.status === 302 ? 'Found: a short-lived presigned URL of the object in `location`'
        : doc.status === 204 || !content ? 'Done' : 'OK',
      ...(content && doc.status !== 204 ? { content } : {}),
      ...(Object.keys(headers).length > 0 ? { headers: headerObjects(headers) } : {}),
    };
    for (const [status, when] of Object.entries(doc.otherSuccesses ?? {})) responses[status] = { description: when, ...(content ? { content } : {}) };
    if (doc.cached) responses['304'] = { description: 'Not modified: the If-None-Match ETag is current', headers: headerObjects(CACHED_HEADERS) };
    const errors = new Set<number>(doc.errors);
    if (doc.params || doc.query || doc.body || doc.rawBody) errors.add(400);
    if (doc.body || doc.rawBody) {
      errors.add(413);
      errors.add(415);
    }
    if (doc.roles !== 'public') {
      errors.add(401);
      errors.add(403);
    }
    for (const status of [...errors].sort()) responses[String(status)] = { description: ERROR_TEXT[status] ?? 'Error', content: errorContent };

    const requestHeaders = doc.cached
      ? z.object({
          'if-none-match': z.string().optional().openapi({ description: 'An ETag this client holds: 304 when it is current' }),
          'accept-encoding': z.string().optional().openapi({ description: 'gzip, br or identity (the default)' }),
        })
      : undefined;
    registry.registerPath({
      method: doc.method,
      path: doc.path,
      operationId: `${doc.method}${doc.path.replace(/\{(\w+)\}/g, 'By-$1').split(/[^A-Za-z0-9]+/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('')}`,
      summary: doc.summary,
      description: [rolesText(doc.roles), doc.description].filter(Boolean).join(' '),
      tags: [doc.tag],
      security: doc.roles === 'public' ? [] : [{ [bearer.name]: [] }],
      request: {
        params: doc.params,
        query: doc.query,
        headers: requestHeaders,
        body: doc.body
          ? { required: true, content: { 'application/json': { schema: doc.body } } }
          : doc.rawBody
            ? { required: true, content: { [doc.rawBody.contentType]: { schema: z.string().openapi({ format: 'binary', description: doc.rawBody.description }) } } }
            : undefined,
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Framewise API',
      version: '1.0.0',
      description:
        'Catalog, access (API keys and client grants), video uploads, jobs, det_groups, metrics and materialization. ' +
        'Errors are `{ "error": { "code", "message", "details" } }`. Roles: admin does everything; analyst manages games, ' +
        'events and videos, follows jobs and reads the catalog; a client key reads only the seasons and det_groups granted to it.',
    },
    security: [{ [bearer.name]: [] }],
  });
}

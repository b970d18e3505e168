// The OpenAPI 3.1 document, generated from the routes' own zod schemas (zod-to-openapi).
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { CatalogRoute } from './route.ts';
import { ErrorBody } from './schemas.ts';

const ERROR_TEXT: Readonly<Record<number, string>> = {
  400: 'The request does not match the schema, or references something that does not exist',
  401: 'No API key, or one that is not valid (unknown or revoked)',
  403: 'This API key may not perform this action',
  404: 'Not found (for a client key: also what is not granted to it)',
  409: 'Conflict: a unique value is taken, or the row is still referenced',
  415: 'The body is not sent as application/json',
};

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export function buildOpenApiDocument(routes: readonly CatalogRoute[]): OpenApiDocument {
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
    responses[String(doc.status)] =
      doc.status === 204 || !doc.response
        ? { description: 'Done' }
        : { description: 'OK', content: { 'application/json': { schema: doc.response } } };
    const errors = new Set<number>(doc.errors);
    if (doc.params || doc.query || doc.body) errors.add(400);
    if (doc.body) errors.add(415);
    if (doc.roles !== 'public') {
      errors.add(401);
      errors.add(403);
    }
    for (const status of [...errors].sort()) responses[String(status)] = { description: ERROR_TEXT[status] ?? 'Error', content: errorContent };

    registry.registerPath({
      method: doc.method,
      path: doc.path,
      operationId: `${doc.method}${doc.path.replace(/\{(\w+)\}/g, 'By-$1').split(/[^A-Za-z0-9]+/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('')}`,
      summary: doc.summary,
      description: doc.description,
      tags: [doc.tag],
      security: doc.roles === 'public' ? [] : [{ [bearer.name]: [] }],
      request: {
        params: doc.params,
        query: doc.query,
        body: doc.body ? { required: true, content: { 'application/json': { schema: doc.body } } } : undefined,
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Framewise catalog API',
      version: '1.0.0',
      description:
        'Catalog CRUD, access (API keys and client grants) and video uploads. Errors are ' +
        '`{ "error": { "code", "message", "details" } }`. Roles: admin does everything; analyst manages games, ' +
        'events and videos and reads the catalog; a client key reads only the seasons and det-groups granted to it.',
    },
    security: [{ [bearer.name]: [] }],
  });
}

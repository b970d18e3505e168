// docs-api: the OpenAPI document of the whole HTTP API, generated from every context's routes, and the reference
// page that renders it. It stands above
// every context (it imports their route declarations, nothing else), so no context depends on another for it.
import { analyticsRoutes } from '../analytics/http.ts';
import { annotationRoutes } from '../annotation/http.ts';
import { catalogRoutes } from '../catalog/routes.ts';
import { detGroupRoutes } from '../detgroups/http.ts';
import { ingestRoutes } from '../ingest/http.ts';
import { jobsRoutes } from '../jobs/http.ts';
import { materializeRoutes } from '../materialize/http.ts';
import { slidesRoutes } from '../slides/http.ts';
import { httpHandler } from '../lib/http.ts';
import { buildOpenApiDocument, type OpenApiDocument } from '../lib/openapi.ts';
import { defineRoute, Reply, routeTable, type DefinedRoute } from '../lib/route.ts';
import { z } from '../lib/zod.ts';
import { REFERENCE_ASSETS, referenceAsset, referencePage } from './reference.ts';

let document: OpenApiDocument | undefined;

const openApiRoute: DefinedRoute = defineRoute({
  key: 'GET /v1/openapi.json', tag: 'meta', roles: 'public',
  summary: 'This OpenAPI document',
  response: z.looseObject({ openapi: z.string() }).openapi('OpenApiDocument'),
  errors: [],
  handle: async () => (document ??= buildOpenApiDocument(documentedRoutes)),
});

const referenceRoutes = [
  defineRoute({
    key: 'GET /v1/docs', tag: 'meta', roles: 'public',
    summary: 'The API reference: this document, rendered (Swagger UI)',
    response: z.string().openapi({ description: 'An HTML page' }),
    alternatives: { 'text/html': 'The page' },
    errors: [],
    handle: async () => new Reply({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, raw: Buffer.from(referencePage()) }),
  }),
  defineRoute({
    key: 'GET /v1/docs/{asset}', tag: 'meta', roles: 'public',
    summary: 'A file of the reference page (its script and stylesheet)',
    params: z.object({ asset: z.enum(REFERENCE_ASSETS) }),
    response: z.string().openapi({ description: 'CSS or JavaScript' }),
    handle: async ({ params, headers }) => {
      const asset = referenceAsset(params.asset);
      const gzip = /\bgzip\b/i.test(headers['accept-encoding'] ?? '');
      return new Reply({
        status: 200,
        headers: {
          'content-type': asset.contentType,
          // the page names each file with the package's version: a new version is a new URL
          'cache-control': 'public, max-age=31536000, immutable',
          vary: 'accept-encoding',
          ...(gzip && { 'content-encoding': 'gzip' }),
        },
        raw: gzip ? asset.gzip : asset.body,
      });
    },
  }),
];

/** Every route of the HTTP API, as the document lists them. */
export const documentedRoutes: readonly DefinedRoute[] = [
  openApiRoute, ...referenceRoutes, ...catalogRoutes, ...jobsRoutes, ...ingestRoutes, ...analyticsRoutes, ...detGroupRoutes, ...annotationRoutes, ...materializeRoutes, ...slidesRoutes,
];

export const routes = routeTable([openApiRoute, ...referenceRoutes]);
export const handler = httpHandler(routes);

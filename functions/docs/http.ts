// docs-api: the OpenAPI document of the whole HTTP API, generated from every context's routes. It stands above
// every context (it imports their route declarations, nothing else), so no context depends on another for it.
import { analyticsRoutes } from '../analytics/http.ts';
import { catalogRoutes } from '../catalog/routes.ts';
import { detGroupRoutes } from '../detgroups/http.ts';
import { jobsRoutes } from '../jobs/http.ts';
import { materializeRoutes } from '../materialize/http.ts';
import { httpHandler } from '../lib/http.ts';
import { buildOpenApiDocument, type OpenApiDocument } from '../lib/openapi.ts';
import { defineRoute, routeTable, type DefinedRoute } from '../lib/route.ts';
import { z } from '../lib/zod.ts';

let document: OpenApiDocument | undefined;

const openApiRoute: DefinedRoute = defineRoute({
  key: 'GET /v1/openapi.json', tag: 'meta', roles: 'public',
  summary: 'This OpenAPI document',
  response: z.looseObject({ openapi: z.string() }).openapi('OpenApiDocument'),
  errors: [],
  handle: async () => (document ??= buildOpenApiDocument(documentedRoutes)),
});

/** Every route of the HTTP API, as the document lists them. */
export const documentedRoutes: readonly DefinedRoute[] = [openApiRoute, ...catalogRoutes, ...jobsRoutes, ...analyticsRoutes, ...detGroupRoutes, ...materializeRoutes];

export const routes = routeTable([openApiRoute]);
export const handler = httpHandler(routes);

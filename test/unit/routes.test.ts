// Every HTTP function serves exactly its topology routes, each declared with defineRoute, and the OpenAPI
// document lists every route of the topology: nothing is served that is not documented, or documented that is
// not served.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentedRoutes } from '../../functions/docs/http.ts';
import type { Routes } from '../../functions/lib/http.ts';
import { buildOpenApiDocument } from '../../functions/lib/openapi.ts';
import { httpRoutes, topology } from '../../infra/topology.ts';
import { ROOT } from '../support/processes.ts';

const httpFunctions = topology.functions.filter((f) => f.triggers.some((t) => t.kind === 'http'));
const routesOf = async (entry: string): Promise<Routes> =>
  ((await import(pathToFileURL(join(ROOT, entry)).href)) as { routes: Routes }).routes;

describe('routes', () => {
  it.each(httpFunctions.map((f) => [f.name, f] as const))('%s serves exactly its topology routes, each declared with defineRoute', async (_, fn) => {
    const routes = await routesOf(fn.entry);
    const declared = httpRoutes([fn]).map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(routes).sort()).toEqual(declared.sort());
    for (const [key, route] of Object.entries(routes)) expect('doc' in route && (route as { doc: { key: string } }).doc.key, key).toBe(key);
  });
});

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument(documentedRoutes);
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, { operationId?: string; responses?: Record<string, unknown>; security?: unknown[] }>)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));

  it('documents every topology route, and nothing else', () => {
    expect(operations.map((o) => o.key).sort()).toEqual(httpRoutes().map((r) => `${r.method} ${r.path}`).sort());
  });

  it('gives each operation a unique id, a success response, and 401/403 unless it is public', () => {
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
    for (const { key, op } of operations) {
      const statuses = Object.keys(op.responses ?? {});
      expect(statuses.some((s) => s.startsWith('2') || s === '302'), key).toBe(true);
      if (op.security?.length === 0) expect(['GET /v1/openapi.json', 'GET /v1/docs', 'GET /v1/docs/{asset}', 'GET /v1/slides/images/{id}/view', 'GET /v1/slides/viewer/{asset}']).toContain(key);
      else expect(statuses, key).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('documents the cached responses (ETag, 304, x-cache), the cursor headers and the CSV representation', () => {
    const op = (key: string) => operations.find((o) => o.key === key)!.op as { responses: Record<string, { headers?: object; content?: object }> };
    const season = op('GET /v1/seasons/{id}/metrics');
    expect(Object.keys(season.responses)).toContain('304');
    expect(Object.keys(season.responses['200']!.headers ?? {})).toEqual(expect.arrayContaining(['etag', 'x-cache', 'x-cache-sections-built']));
    const table = op('GET /v1/materialize/{datastack}/versions/{version}/tables/{table}');
    expect(Object.keys(table.responses['200']!.headers ?? {})).toEqual(expect.arrayContaining(['next-cursor', 'link', 'x-datastack-version']));
    expect(Object.keys(table.responses['200']!.content ?? {})).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(op('POST /v1/materialize/{datastack}/bulk-upload').responses)).toEqual(expect.arrayContaining(['202', '413', '415']));
    // a re-run answers 201 with its job started, or 202 with it waiting for its source's restore: the same job either way
    const rerun = op('POST /v1/videos/{id}/ingest').responses;
    expect(Object.keys(rerun)).toEqual(expect.arrayContaining(['201', '202']));
    expect(rerun['202']!.content).toEqual(rerun['201']!.content);
  });
});

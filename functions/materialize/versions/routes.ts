// materialize-api, frozen versions: an admin starts one (a materialize-version job), or the complete workflow that
// refreshes the segmentation first (a materialize job); admins and analysts list a datastack's versions and read a version's tables, filtered on root ids, page by page, as JSON or CSV.
//
// A page is built whole before it is sent: API Gateway buffers a Lambda's response (HTTP APIs do not stream
// one). It is read through a PostgreSQL cursor and encoded batch by batch, and bounded by `limit` (at most
// 10,000 rows) and by MAX_PAGE_BYTES.
import { randomUUID } from 'node:crypto';
import { defineRoute, Reply } from '../../lib/route.ts';
import { z } from '../../lib/zod.ts';
import { badRequest, conflict, invalidCursor, notFound } from '../../lib/errors.ts';
import { logger } from '../../lib/logger.ts';
import { materializeJobId, materializeVersionJobId, type Job } from '../../jobs/job.ts';
import { JobSchema } from '../../jobs/schemas.ts';
import { createAndStartJob } from '../../jobs/workflow.ts';
import { DatastackParams } from '../route-params.ts';
import { IDENTIFIER } from '../schemas.ts';
import { DEFAULT_PAGE_ROWS, InvalidCursorError, MAX_PAGE_ROWS, parseRootIds, QueryInputError } from './query.ts';
import { datastackKnown, listVersions, readVersionPage, versionedTablesOf, type VersionRecord } from './store.ts';
import { DEFAULT_EXPIRES_IN_DAYS, MAX_EXPIRES_IN_DAYS, VERSION_CADENCES, VERSION_STATES } from './lifecycle.ts';

const VersionView = z
  .object({
    version: z.number().int(),
    state: z.enum(VERSION_STATES),
    cadence: z.enum(VERSION_CADENCES),
    createdAt: z.string(),
    validAt: z.string().nullable().openapi({ description: 'The snapshot the version holds' }),
    expiresAt: z.string().nullable(),
    expiredAt: z.string().nullable(),
    tables: z.record(z.string(), z.number().int()).openapi({ description: 'Rows of each frozen table' }),
    schema: z.string(),
    jobId: z.string(),
    error: z.string().optional(),
  })
  .openapi('DatastackVersion');

const VersionPage = z
  .object({ versions: z.array(VersionView), nextCursor: z.string().nullable() })
  .openapi('DatastackVersionPage');

/** Response headers of a version table page. */
const PAGE_HEADERS = {
  'x-datastack-version': 'The version read (what `latest` was)',
  'x-page-rows': 'Rows in this page',
  'next-cursor': 'Pass as cursor for the next page (absent on the last page)',
  link: '`<…>; rel="next"`: the next page, relative to the API root',
};

const CreateBody = z
  .strictObject({ expiresInDays: z.number().int().min(1).max(MAX_EXPIRES_IN_DAYS).default(DEFAULT_EXPIRES_IN_DAYS) })
  .default({ expiresInDays: DEFAULT_EXPIRES_IN_DAYS });
const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The nextCursor of the previous page: versions below this number. */
  cursor: z.string().optional(),
});
/** A versions page's cursor is the version number it continues below. */
const VERSIONS_CURSOR = /^[1-9]\d{0,9}$/;
const TableParams = DatastackParams.extend({
  version: z.union([z.literal('latest'), z.coerce.number().int().min(1).max(2_147_483_647)]),
  table: z.string().regex(IDENTIFIER, 'a table is a plain identifier: a-z or _ first, then a-z, 0-9 or _, at most 63 characters'),
});
const PageQuery = z.object({
  rootIds: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_ROWS).default(DEFAULT_PAGE_ROWS),
  cursor: z.string().min(1).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

/** A version as the API shows it. */
const view = (v: VersionRecord) => ({
  version: v.version,
  state: v.state,
  cadence: v.cadence,
  createdAt: v.createdAt,
  validAt: v.validAt,
  expiresAt: v.expiresAt,
  expiredAt: v.expiredAt,
  tables: v.tables,
  schema: v.schema,
  jobId: v.jobId,
  ...(v.error && { error: v.error }),
});

async function requireDatastack(datastack: string): Promise<void> {
  if (!(await datastackKnown(datastack))) throw notFound('datastack', datastack);
}

/** The same request (at the version read, should it have been `latest`) with the next cursor, relative to the API's root, for a `Link: <…>; rel="next"` header. */
function nextLink(query: Readonly<Record<string, unknown>>, p: z.output<typeof TableParams>, version: number, cursor: string): string {
  const search = new URLSearchParams({ ...Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])), cursor });
  return `/v1/materialize/${p.datastack}/versions/${version}/tables/${encodeURIComponent(p.table)}?${search}`;
}

/** Starts a version of the datastack, alone or at the end of the complete workflow; 202 with the job. */
async function startVersionJob(datastack: string, expiresInDays: number, kind: 'materialize-version' | 'materialize'): Promise<Job> {
  await requireDatastack(datastack);
  if ((await versionedTablesOf(datastack)).length === 0) {
    throw conflict(`datastack ${datastack} has no annotation tables to version (a table T with its segmentation table T__seg)`);
  }
  const unique = randomUUID().slice(0, 8);
  const jobId = kind === 'materialize' ? materializeJobId(datastack, unique) : materializeVersionJobId(datastack, unique);
  const { job } = await createAndStartJob({ jobId, kind, input: { datastack, cadence: 'manual', expiresInDays: String(expiresInDays) } });
  logger.info(kind === 'materialize' ? 'complete workflow requested' : 'version requested', { jobId, datastack, expiresInDays });
  return job;
}

export const versionRoutes = [
  defineRoute({
    key: 'POST /v1/materialize/{datastack}/versions', tag: 'materialize', roles: [],
    summary: "Start a frozen version of a datastack's annotation tables (a materialize-version job)",
    description: '409 when the datastack has no annotation tables to version.',
    params: DatastackParams, body: CreateBody, response: JobSchema, status: 202,
    handle: ({ params, body }) => startVersionJob(params.datastack, body.expiresInDays, 'materialize-version'),
  }),
  /** Ingest new annotations, update root ids, then create a version: what the schedules run. */
  defineRoute({
    key: 'POST /v1/materialize/{datastack}/complete-workflow', tag: 'materialize', roles: [],
    summary: 'Start the complete workflow: ingest new annotations, update expired root ids, create a frozen version (a materialize job)',
    params: DatastackParams, body: CreateBody, response: JobSchema, status: 202,
    handle: ({ params, body }) => startVersionJob(params.datastack, body.expiresInDays, 'materialize'),
  }),
  defineRoute({
    key: 'GET /v1/materialize/{datastack}/versions', tag: 'materialize', roles: ['analyst'],
    summary: "A datastack's frozen versions, newest first",
    params: DatastackParams, query: ListQuery, response: VersionPage,
    handle: async ({ params: { datastack }, query: q }) => {
      if (q.cursor !== undefined && !VERSIONS_CURSOR.test(q.cursor)) throw invalidCursor();
      await requireDatastack(datastack);
      const versions = await listVersions(datastack, { limit: q.limit + 1, before: q.cursor === undefined ? undefined : Number(q.cursor) });
      const page = versions.slice(0, q.limit);
      return { versions: page.map(view), nextCursor: versions.length > q.limit ? String(page.at(-1)!.version) : null };
    },
  }),
  defineRoute({
    key: 'GET /v1/materialize/{datastack}/versions/{version}/tables/{table}', tag: 'materialize', roles: ['analyst'],
    summary: "A page of a frozen version's table, optionally only the rows of some root ids, as JSON or CSV",
    description: '`version` may be `latest`. Pages: follow `next-cursor` (or the `link` header).',
    params: TableParams, query: PageQuery, headers: PAGE_HEADERS,
    response: z.array(z.record(z.string(), z.unknown())).openapi('VersionTableRows'),
    alternatives: { 'text/csv': 'The same rows as CSV with a header line (`format=csv`)' },
    handle: async ({ params: p, query: q }) => {
      try {
        const rootIds = q.rootIds === undefined ? [] : parseRootIds(q.rootIds);
        const page = await readVersionPage({ datastack: p.datastack, version: p.version, table: p.table, rootIds, cursor: q.cursor, limit: q.limit, format: q.format });
        const headers: Record<string, string> = {
          'content-type': q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
          'x-datastack-version': String(page.version),
          'x-page-rows': String(page.rows),
        };
        if (page.nextCursor) Object.assign(headers, { 'next-cursor': page.nextCursor, link: `<${nextLink(q, p, page.version, page.nextCursor)}>; rel="next"` });
        return new Reply({ status: 200, headers, raw: page.body });
      } catch (err) {
        if (err instanceof InvalidCursorError) throw invalidCursor(err.message);
        if (err instanceof QueryInputError) throw badRequest(err.message, err.details);
        throw err;
      }
    },
  }),
];

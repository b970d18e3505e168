// detgroups-api: det_groups as clients get them. A new det_group is computed for every ingested video; a
// client gets a det_group's detectables with it and loses those it no longer needs without it; a det_group no
// client holds any more is deleted with its metrics; an admin releases a det_group computed completely to its clients.
import { z } from '../lib/zod.ts';
import { httpHandler } from '../lib/http.ts';
import { defineRoute, routeTable } from '../lib/route.ts';
import { conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { WholeVideoTotals } from '../analytics/schemas.ts';
import { deleteDetGroupResults } from '../analytics/store.ts';
import { requestComputation } from './computation.ts';
import { releaseDetGroup, reviewDetGroup } from './release.ts';
import { assertClient, createDetGroup, deleteDetGroup, findBySet, getDetGroup, grantToClient, revokeFromClient } from './store.ts';

const Id = z.uuid();
const DetectableIds = z.array(Id).min(1).max(500);
const NewDetGroup = z.strictObject({
  name: z.string().trim().min(1).max(200),
  detectableIds: DetectableIds,
  organizationId: Id.nullable().optional(),
});
const ClientDetGroup = z.union([z.strictObject({ detGroupId: Id }), NewDetGroup]);
const Replacement = z.strictObject({ name: z.string().trim().min(1).max(200).optional(), detectableIds: DetectableIds });
const IdParams = z.object({ id: Id });
const PairParams = z.object({ id: Id, detGroupId: Id });

/** The det_group with these detectables: the existing one, or a new one that is then computed. */
async function findOrCreate(input: z.output<typeof NewDetGroup>): Promise<{ detGroupId: string; created: boolean; jobRequested: boolean }> {
  const existing = await findBySet(input.detectableIds);
  if (existing) return { detGroupId: existing, created: false, jobRequested: false };
  const detGroupId = await createDetGroup(input);
  await requestComputation(detGroupId);
  logger.info('det_group created; computation requested', { detGroupId });
  return { detGroupId, created: true, jobRequested: true };
}

/** Revokes and, when no client holds the det_group any more, deletes it and its metrics. */
async function revoke(clientId: string, detGroupId: string): Promise<{ deleted: boolean }> {
  const { stillHeld } = await revokeFromClient(clientId, detGroupId);
  if (stillHeld) return { deleted: false };
  await deleteDetGroup(detGroupId);
  await deleteDetGroupResults(detGroupId);
  logger.info('det_group no client holds was deleted', { detGroupId });
  return { deleted: true };
}

const DetGroupCreated = z
  .object({ id: Id, name: z.string(), detectableIds: z.array(Id), jobRequested: z.boolean() })
  .openapi('DetGroupCreated', { description: 'jobRequested: its metrics are being computed for every ingested video it applies to' });
const Grant = z.object({ clientId: Id, detGroupId: Id, created: z.boolean(), jobRequested: z.boolean() }).openapi('DetGroupGrant');
const Revocation = z
  .object({ clientId: Id, detGroupId: Id, deleted: z.boolean() })
  .openapi('DetGroupRevocation', { description: 'deleted: no client held the det_group any more, so it and its metrics were deleted' });
const Replaced = z
  .object({ clientId: Id, detGroupId: Id, replaced: Id, created: z.boolean(), oldDeleted: z.boolean() })
  .openapi('DetGroupReplacement');
const DetGroupRelease = z.object({ detGroupId: Id, releasedAt: z.string() }).openapi('DetGroupRelease');
const DetGroupReview = z
  .object({
    detGroupId: Id,
    name: z.string(),
    releasedAt: z.string().nullable(),
    videos: z.array(z.object({ videoId: Id, title: z.string().nullable(), totals: WholeVideoTotals.nullable() })),
  })
  .openapi('DetGroupReview', { description: 'Each ingested video the det_group applies to, with its totals in the run operators read (null: not computed yet)' });

export const detGroupRoutes = [
  defineRoute({
    key: 'POST /v1/det-groups', tag: 'det-groups', roles: [],
    summary: 'Create a det_group and compute it for every ingested video it applies to',
    description: '409 when a det_group has exactly these detectables.',
    body: NewDetGroup, response: DetGroupCreated,
    handle: async ({ body }) => {
      const existing = await findBySet(body.detectableIds);
      if (existing) throw conflict(`det_group ${existing} has exactly these detectables`, { detGroupId: existing });
      const result = await findOrCreate(body);
      return { ...(await getDetGroup(result.detGroupId)), jobRequested: result.jobRequested };
    },
  }),
  defineRoute({
    key: 'DELETE /v1/det-groups/{id}', tag: 'det-groups', roles: [],
    summary: 'Delete a det_group and its metrics',
    params: IdParams,
    handle: async ({ params: { id } }) => {
      await deleteDetGroup(id);
      await deleteDetGroupResults(id);
    },
  }),
  defineRoute({
    key: 'POST /v1/clients/{id}/det-groups', tag: 'det-groups', roles: [],
    summary: 'Grant a client a det_group (an existing one, or the one with these detectables, created if new)',
    description: "The client gets the det_group's detectables with it.",
    params: IdParams, body: ClientDetGroup, response: Grant,
    handle: async ({ params: { id: clientId }, body }) => {
      await assertClient(clientId); // before a det_group is created for it
      const result = 'detGroupId' in body ? { detGroupId: (await getDetGroup(body.detGroupId)).id, created: false, jobRequested: false } : await findOrCreate(body);
      await grantToClient(clientId, result.detGroupId);
      return { clientId, ...result };
    },
  }),
  defineRoute({
    key: 'PUT /v1/clients/{id}/det-groups/{detGroupId}', tag: 'det-groups', roles: [],
    summary: 'Grant a client an existing det_group', description: 'Idempotent.',
    params: PairParams, response: z.object({ clientId: Id, detGroupId: Id }),
    handle: async ({ params: { id: clientId, detGroupId } }) => {
      await getDetGroup(detGroupId);
      await grantToClient(clientId, detGroupId);
      return { clientId, detGroupId };
    },
  }),
  defineRoute({
    key: 'DELETE /v1/clients/{id}/det-groups/{detGroupId}', tag: 'det-groups', roles: [],
    summary: "Revoke a client's det_group (and the detectables only it gave the client)",
    params: PairParams, response: Revocation, status: 200,
    handle: async ({ params: { id: clientId, detGroupId } }) => ({ clientId, detGroupId, ...(await revoke(clientId, detGroupId)) }),
  }),
  defineRoute({
    key: 'POST /v1/clients/{id}/det-groups/{detGroupId}/replace', tag: 'det-groups', roles: [],
    summary: "Replace a client's det_group by the one with these detectables",
    description: 'The detectables both share stay with the client throughout; the old det_group is deleted when no client holds it.',
    params: PairParams, body: Replacement, response: Replaced, status: 200,
    handle: async ({ params: { id: clientId, detGroupId }, body }) => {
      const old = await getDetGroup(detGroupId);
      await assertClient(clientId, detGroupId); // before the new det_group is created and granted
      const next = await findOrCreate({ name: body.name ?? old.name, detectableIds: body.detectableIds });
      if (next.detGroupId === detGroupId) throw conflict(`det_group ${detGroupId} already has exactly these detectables`);
      // Grant the new one first: the detectables both share stay with the client throughout.
      await grantToClient(clientId, next.detGroupId);
      const removed = await revoke(clientId, detGroupId);
      return { clientId, detGroupId: next.detGroupId, replaced: detGroupId, created: next.created, oldDeleted: removed.deleted };
    },
  }),
  defineRoute({
    key: 'GET /v1/det-groups/{id}/review', tag: 'jobs', roles: ['analyst'],
    summary: 'What releasing a det_group would show its clients: its whole-video totals for each ingested video it applies to',
    params: IdParams, response: DetGroupReview,
    handle: ({ params }) => reviewDetGroup(params.id),
  }),
  defineRoute({
    key: 'POST /v1/det-groups/{id}/release', tag: 'jobs', roles: [],
    summary: "Release a det_group's results to its clients",
    params: IdParams, response: DetGroupRelease, status: 200,
    handle: ({ params }) => releaseDetGroup(params.id),
  }),
];

export const routes = routeTable(detGroupRoutes);
export const handler = httpHandler(routes);

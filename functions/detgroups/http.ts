// detgroups-api: det_groups as clients get them. A new det_group is computed for every ingested video; a
// client gets a det_group's detectables with it and loses those it no longer needs without it; a det_group no
// client holds any more is deleted with its metrics.
import { z } from 'zod';
import { created, noContent, ok, httpHandler, parse, type Routes } from '../lib/http.ts';
import { conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { deleteDetGroupResults } from '../analytics/store.ts';
import { requestComputation } from './computation.ts';
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

export const routes: Routes = {
  'POST /v1/det-groups': {
    roles: [],
    handle: async (req) => {
      const body = parse(NewDetGroup, req.body);
      const existing = await findBySet(body.detectableIds);
      if (existing) throw conflict(`det_group ${existing} has exactly these detectables`, { detGroupId: existing });
      const result = await findOrCreate(body);
      return created({ ...(await getDetGroup(result.detGroupId)), jobRequested: result.jobRequested });
    },
  },
  'DELETE /v1/det-groups/{id}': {
    roles: [],
    handle: async (req) => {
      const { id } = parse(IdParams, req.params);
      await deleteDetGroup(id);
      await deleteDetGroupResults(id);
      return noContent();
    },
  },
  'POST /v1/clients/{id}/det-groups': {
    roles: [],
    handle: async (req) => {
      const { id: clientId } = parse(IdParams, req.params);
      const body = parse(ClientDetGroup, req.body);
      await assertClient(clientId); // before a det_group is created for it
      const result = 'detGroupId' in body ? { detGroupId: (await getDetGroup(body.detGroupId)).id, created: false, jobRequested: false } : await findOrCreate(body);
      await grantToClient(clientId, result.detGroupId);
      return created({ clientId, ...result });
    },
  },
  'PUT /v1/clients/{id}/det-groups/{detGroupId}': {
    roles: [],
    handle: async (req) => {
      const { id: clientId, detGroupId } = parse(PairParams, req.params);
      await getDetGroup(detGroupId);
      await grantToClient(clientId, detGroupId);
      return ok({ clientId, detGroupId });
    },
  },
  'DELETE /v1/clients/{id}/det-groups/{detGroupId}': {
    roles: [],
    handle: async (req) => {
      const { id: clientId, detGroupId } = parse(PairParams, req.params);
      return ok({ clientId, detGroupId, ...(await revoke(clientId, detGroupId)) });
    },
  },
  'POST /v1/clients/{id}/det-groups/{detGroupId}/replace': {
    roles: [],
    handle: async (req) => {
      const { id: clientId, detGroupId } = parse(PairParams, req.params);
      const body = parse(Replacement, req.body);
      const old = await getDetGroup(detGroupId);
      await assertClient(clientId, detGroupId); // before the new det_group is created and granted
      const next = await findOrCreate({ name: body.name ?? old.name, detectableIds: body.detectableIds });
      if (next.detGroupId === detGroupId) throw conflict(`det_group ${detGroupId} already has exactly these detectables`);
      // Grant the new one first: the detectables both share stay with the client throughout.
      await grantToClient(clientId, next.detGroupId);
      const removed = await revoke(clientId, detGroupId);
      return ok({ clientId, detGroupId: next.detGroupId, replaced: detGroupId, created: next.created, oldDeleted: removed.deleted });
    },
  },
};

export const handler = httpHandler(routes);

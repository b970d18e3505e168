// det_groups as clients hold them: granting brings the det_group's detectables to the client, revoking takes
// away those no other det_group of the client needs, and a det_group no client holds any more goes.
import type pg from 'pg';
import { conflict, notFound } from '../lib/errors.ts';
import { detGroupAppliesSql } from '../catalog/det-group-videos.ts';
import { fromPgError } from '../lib/dberrors.ts';
import { query, transaction } from '../lib/pg.ts';

export interface DetGroupRow {
  readonly id: string;
  readonly name: string;
  readonly detectableIds: string[];
}

const sortedUnique = (ids: readonly string[]) => [...new Set(ids)].sort();

/** The det_group whose detectables are exactly these, if there is one. */
export async function findBySet(detectableIds: readonly string[]): Promise<string | undefined> {
  const rows = await query<{ id: string }>(
    `SELECT det_group_id AS id FROM det_group_detectable GROUP BY det_group_id
     HAVING array_agg(detectable_id ORDER BY detectable_id) = $1::uuid[] ORDER BY det_group_id LIMIT 1`,
    [sortedUnique(detectableIds)],
  );
  return rows[0]?.id;
}

async function assertDetectablesExist(c: pg.PoolClient, ids: readonly string[]): Promise<void> {
  const found = await c.query<{ id: string }>('SELECT id FROM detectable WHERE id = ANY ($1::uuid[])', [ids]);
  const missing = ids.filter((id) => !found.rows.some((r) => r.id === id));
  if (missing.length > 0) throw notFound('detectable', missing.join(', '));
}

export async function createDetGroup(input: { name: string; detectableIds: readonly string[]; organizationId?: string | null }): Promise<string> {
  const ids = sortedUnique(input.detectableIds);
  return transaction(async (c) => {
    await assertDetectablesExist(c, ids);
    // An organization that does not exist is the caller's mistake (400 InvalidReference, as in the catalog), not a 500.
    const { rows } = await c
      .query<{ id: string }>('INSERT INTO det_group (name, organization_id) VALUES ($1, $2) RETURNING id', [input.name, input.organizationId ?? null])
      .catch((err: unknown) => {
        throw fromPgError(err) ?? err;
      });
    const id = rows[0]!.id;
    await c.query('INSERT INTO det_group_detectable (det_group_id, detectable_id) SELECT $1, unnest($2::uuid[])', [id, ids]);
    return id;
  });
}

export async function getDetGroup(id: string): Promise<DetGroupRow> {
  const rows = await query<{ id: string; name: string; detectable_ids: string[] | null }>(
    `SELECT dg.id, dg.name, array_remove(array_agg(dgd.detectable_id ORDER BY dgd.detectable_id), NULL) AS detectable_ids
       FROM det_group dg LEFT JOIN det_group_detectable dgd ON dgd.det_group_id = dg.id
      WHERE dg.id = $1 GROUP BY dg.id`,
    [id],
  );
  const r = rows[0];
  if (!r) throw notFound('det_group', id);
  return { id: r.id, name: r.name, detectableIds: r.detectable_ids ?? [] };
}

async function assertClientExists(c: pg.PoolClient, clientId: string): Promise<void> {
  if ((await c.query('SELECT 1 FROM client WHERE id = $1', [clientId])).rowCount === 0) throw notFound('client', clientId);
}

/**
 * 404 unless the client exists and, given a det_group, holds it. Checked before a det_group is created for the
 * client, so that a request that ends in 404 leaves nothing behind.
 */
export async function assertClient(clientId: string, holding?: string): Promise<void> {
  if ((await query('SELECT 1 FROM client WHERE id = $1', [clientId])).length === 0) throw notFound('client', clientId);
  if (holding && (await query('SELECT 1 FROM client_det_group WHERE client_id = $1 AND det_group_id = $2', [clientId, holding])).length === 0) {
    throw notFound(`det_group ${holding} of client`, clientId);
  }
}

/** Grants the det_group to the client, with its detectables. Idempotent. */
export async function grantToClient(clientId: string, detGroupId: string): Promise<void> {
  await transaction(async (c) => {
    await assertClientExists(c, clientId);
    await c.query(
      `INSERT INTO client_detectable (client_id, detectable_id)
       SELECT $1, detectable_id FROM det_group_detectable WHERE det_group_id = $2 ON CONFLICT DO NOTHING`,
      [clientId, detGroupId],
    );
    await c.query('INSERT INTO client_det_group (client_id, det_group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [clientId, detGroupId]);
  });
}

/**
 * Takes the det_group from the client, and the detectables no other det_group of the client uses. Returns
 * whether any client still holds the det_group.
 */
export async function revokeFromClient(clientId: string, detGroupId: string): Promise<{ stillHeld: boolean }> {
  return transaction(async (c) => {
    await assertClientExists(c, clientId);
    const removed = await c.query('DELETE FROM client_det_group WHERE client_id = $1 AND det_group_id = $2', [clientId, detGroupId]);
    if (removed.rowCount === 0) throw notFound(`det_group ${detGroupId} of client`, clientId);
    await c.query(
      `DELETE FROM client_detectable cd
        WHERE cd.client_id = $1
          AND cd.detectable_id IN (SELECT detectable_id FROM det_group_detectable WHERE det_group_id = $2)
          AND NOT EXISTS (SELECT 1 FROM client_det_group cdg JOIN det_group_detectable dgd ON dgd.det_group_id = cdg.det_group_id
                           WHERE cdg.client_id = $1 AND dgd.detectable_id = cd.detectable_id)`,
      [clientId, detGroupId],
    );
    const held = await c.query('SELECT 1 FROM client_det_group WHERE det_group_id = $1 LIMIT 1', [detGroupId]);
    return { stillHeld: (held.rowCount ?? 0) > 0 };
  });
}

/** Deletes a det_group no client holds. */
export async function deleteDetGroup(detGroupId: string): Promise<void> {
  await transaction(async (c) => {
    const held = await c.query('SELECT 1 FROM client_det_group WHERE det_group_id = $1 LIMIT 1', [detGroupId]);
    if ((held.rowCount ?? 0) > 0) throw conflict(`det_group ${detGroupId} is granted to clients: revoke it from them first`);
    const deleted = await c.query('DELETE FROM det_group WHERE id = $1', [detGroupId]);
    if (deleted.rowCount === 0) throw notFound('det_group', detGroupId);
  });
}

/**
 * The videos whose frames and localizations are in place and to which the det_group applies (each of its
 * detectables occurs in the video).
 */
export async function videosFor(detGroupId: string): Promise<string[]> {
  const rows = await query<{ id: string }>(
    `SELECT v.id FROM video v
      WHERE v.metrics_ready_at IS NOT NULL
        AND ${detGroupAppliesSql('$1')}
      ORDER BY v.id`,
    [detGroupId],
  );
  return rows.map((r) => r.id);
}

/** Marks the det_group changed (its triggers touch the clients holding it). */
export async function touchDetGroup(detGroupId: string): Promise<void> {
  await query('UPDATE det_group SET updated_at = now() WHERE id = $1', [detGroupId]);
}

export async function detGroupExists(detGroupId: string): Promise<boolean> {
  return (await query('SELECT 1 FROM det_group WHERE id = $1', [detGroupId])).length > 0;
}

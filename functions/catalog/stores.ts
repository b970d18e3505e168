// The catalog's stores: the generic repository for plain entities, and det_group, whose detectableIds
// live in det_group_detectable and are written in the same transaction as the group.
import { transaction } from '../lib/pg.ts';
import { AppError } from '../lib/errors.ts';
import { type ClientScope, type Db, type ListOptions, type Page, Repository, type Row, RelationRepository, type TableDef } from './repository.ts';
import * as tables from './tables.ts';

/** What the CRUD routes need from an entity's store. */
export interface EntityStore {
  list(opts: ListOptions): Promise<Page>;
  get(id: string, scope?: ClientScope): Promise<Row | undefined>;
  create(values: Readonly<Record<string, unknown>>): Promise<Row>;
  /** undefined when there is no such row */
  update(id: string, values: Readonly<Record<string, unknown>>): Promise<Row | undefined>;
  /** false when there is no such row */
  delete(id: string): Promise<boolean>;
}

export function crudStore(def: TableDef): EntityStore & { repo: Repository } {
  const repo = new Repository(def);
  return {
    repo,
    list: (opts) => repo.list(opts),
    get: (id, scope) => repo.get(id, { scope }),
    create: (values) => repo.insert(values),
    update: (id, values) => repo.update(id, values),
    delete: (id) => repo.delete(id),
  };
}

/**
 * Makes the group's detectables exactly `ids`: every id must exist (400 listing the missing ones), members
 * not in `ids` are removed, new ones added, unchanged ones left alone (no needless touch of the clients).
 */
export async function setDetGroupMembers(conn: Db, detGroupId: string, ids: readonly string[]): Promise<void> {
  const { rows: missing } = await conn.query<{ id: string }>(
    'SELECT x.id FROM unnest($1::uuid[]) AS x(id) WHERE NOT EXISTS (SELECT 1 FROM detectable d WHERE d.id = x.id)',
    [ids],
  );
  if (missing.length) {
    throw new AppError(400, 'InvalidReference', `detectableIds name detectables that do not exist`, {
      field: 'detectableIds',
      missing: missing.map((r) => r.id),
    });
  }
  await conn.query('DELETE FROM det_group_detectable WHERE det_group_id = $1 AND NOT (detectable_id = ANY ($2::uuid[]))', [detGroupId, ids]);
  await conn.query(
    'INSERT INTO det_group_detectable (det_group_id, detectable_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING',
    [detGroupId, ids],
  );
}

export function detGroupStore(): EntityStore {
  const repo = new Repository(tables.detGroupTable);
  const split = (values: Readonly<Record<string, unknown>>) => {
    const { detectableIds, ...rest } = values;
    return { ids: detectableIds as string[] | undefined, rest };
  };
  return {
    list: (opts) => repo.list(opts),
    get: (id, scope) => repo.get(id, { scope }),
    create: (values) =>
      transaction(async (c) => {
        const { ids, rest } = split(values);
        const id = await repo.insertId(rest, c);
        if (ids?.length) await setDetGroupMembers(c, id, ids);
        return (await repo.get(id, { db: c }))!;
      }),
    update: (id, values) =>
      transaction(async (c) => {
        const { ids, rest } = split(values);
        if (!(await repo.updateById(id, rest, c))) return undefined;
        if (ids) await setDetGroupMembers(c, id, ids);
        return repo.get(id, { db: c });
      }),
    delete: (id) => repo.delete(id),
  };
}

export const stores = {
  organizations: crudStore(tables.organizationTable),
  clients: crudStore(tables.clientTable),
  detectables: crudStore(tables.detectableTable),
  detGroups: detGroupStore(),
  sports: crudStore(tables.sportTable),
  eventTypes: crudStore(tables.eventTypeTable),
  leagues: crudStore(tables.leagueTable),
  teams: crudStore(tables.teamTable),
  seasons: crudStore(tables.seasonTable),
  games: crudStore(tables.gameTable),
  events: crudStore(tables.eventTable),
  videos: crudStore(tables.videoTable),
};

export const relations = {
  clientDetectables: new RelationRepository(tables.clientDetectableRelation),
  clientDetGroups: new RelationRepository(tables.clientDetGroupRelation),
  clientSeasons: new RelationRepository(tables.clientSeasonRelation),
  gameTeams: new RelationRepository(tables.gameTeamRelation),
};

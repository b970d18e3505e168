// One description per catalog table: its columns and their types. The generic Repository builds every
// query from these; the column names (snake_case) map one-to-one to the API's camelCase fields.
import type { RelationDef, TableDef } from './repository.ts';

export const organizationTable: TableDef = {
  table: 'organization',
  label: 'organization',
  columns: { name: 'text' },
};

export const clientTable: TableDef = {
  table: 'client',
  label: 'client',
  columns: { organization_id: 'uuid', name: 'text' },
};

export const detectableTable: TableDef = {
  table: 'detectable',
  label: 'detectable',
  columns: { name: 'text', description: 'text' },
};

export const detGroupTable: TableDef = {
  table: 'det_group',
  label: 'det-group',
  columns: { name: 'text', organization_id: 'uuid' },
  computed: {
    detectable_ids: {
      type: 'uuid[]',
      sql: `SELECT coalesce(array_agg(m.detectable_id ORDER BY m.detectable_id), '{}') FROM det_group_detectable m WHERE m.det_group_id = t.id`,
    },
  },
};

export const sportTable: TableDef = {
  table: 'sport',
  label: 'sport',
  columns: { name: 'text' },
};

export const eventTypeTable: TableDef = {
  table: 'event_type',
  label: 'event-type',
  columns: { sport_id: 'uuid', name: 'text', weight: 'numeric', window_seconds: 'numeric' },
};

export const leagueTable: TableDef = {
  table: 'league',
  label: 'league',
  columns: { sport_id: 'uuid', name: 'text' },
};

export const teamTable: TableDef = {
  table: 'team',
  label: 'team',
  columns: { name: 'text', league_id: 'uuid', sport_id: 'uuid' },
};

export const seasonTable: TableDef = {
  table: 'season',
  label: 'season',
  columns: { league_id: 'uuid', name: 'text', starts_on: 'date', ends_on: 'date' },
};

export const gameTable: TableDef = {
  table: 'game',
  label: 'game',
  columns: { season_id: 'uuid', starts_at: 'timestamptz', title: 'text' },
};

export const eventTable: TableDef = {
  table: 'event',
  label: 'event',
  columns: { game_id: 'uuid', event_type_id: 'uuid', time: 'numeric' },
};

export const videoTable: TableDef = {
  table: 'video',
  label: 'video',
  columns: {
    game_id: 'uuid',
    title: 'text',
    status: 'text',
    s3_key: 'text',
    content_type: 'text',
    size_bytes: 'bigint',
    duration_seconds: 'numeric',
    frame_rate: 'numeric',
    width: 'integer',
    height: 'integer',
    codec: 'text',
    probed_at: 'timestamptz',
    released_at: 'timestamptz',
    ingest_frame_rate: 'numeric',
    ingest_threshold: 'numeric',
    localizations_key: 'text',
    frame_count: 'integer',
    ingested_at: 'timestamptz',
  },
};

export const apiKeyTable: TableDef = {
  table: 'api_keys',
  label: 'api-key',
  columns: { name: 'text', role: 'text', client_id: 'uuid', key_hash: 'text', key_prefix: 'text', revoked_at: 'timestamptz' },
  hidden: ['key_hash'],
};

// ---- relations ----

const client = { column: 'client_id', table: 'client', label: 'client' } as const;

export const clientDetectableRelation: RelationDef = {
  table: 'client_detectable',
  owner: client,
  target: { column: 'detectable_id', table: 'detectable', label: 'detectable' },
};

export const clientDetGroupRelation: RelationDef = {
  table: 'client_det_group',
  owner: client,
  target: { column: 'det_group_id', table: 'det_group', label: 'det-group' },
};

export const clientSeasonRelation: RelationDef = {
  table: 'client_season',
  owner: client,
  target: { column: 'season_id', table: 'season', label: 'season' },
};

export const gameTeamRelation: RelationDef = {
  table: 'game_team',
  owner: { column: 'game_id', table: 'game', label: 'game' },
  target: { column: 'team_id', table: 'team', label: 'team' },
  extra: { side: 'text' },
};

// A datastack's segmentation source (public.segmentation_source): a Neuroglancer precomputed volume in S3 at one
// scale. The S3 side of precomputed.ts, and what the root-table load and the refresh runs share.
import { promisify } from 'node:util';
import { brotliDecompress, gunzip } from 'node:zlib';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { s3 } from '../../lib/aws.ts';
import { query, transaction } from '../../lib/pg.ts';
import { datastackSchema } from '../datastack.ts';
import { infoObjectKey, normalizeVolumePrefix, resolveScaleFromText, type ScaleResult, type Vec3, type VolumeScale } from './precomputed.ts';
import { quoteIdent } from '../schemas.ts';
import { supervoxelRootDdl } from './sql.ts';
import { TaskError } from '../../lib/errors.ts';

/** A time in SQL as ISO 8601 UTC with microseconds: exact, and read back by timestamptz input as the same instant. */
export const isoUtc = (expr: string) => `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The lock of a datastack's supervoxel → root table, held by a load for its whole transaction and by a run while it
 * fixes its time: a run then sees a load entirely or not at all, and a load it does not see is recorded after it.
 */
export const lockRootTable = (client: pg.ClientBase, datastack: string) => client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`supervoxel_root:${datastack}`]);

export interface SegmentationSource {
  datastack: string;
  bucket: string;
  volumePrefix: string;
  scaleKey: string;
  positionUnitNm: Vec3;
  resolutionNm: Vec3;
  fillMissing: boolean;
  rootsRefreshedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const SOURCE_COLUMNS = `datastack, bucket, volume_prefix AS "volumePrefix", scale_key AS "scaleKey", position_unit_nm AS "positionUnitNm",
  resolution_nm AS "resolutionNm", fill_missing AS "fillMissing", ${isoUtc('roots_refreshed_at')} AS "rootsRefreshedAt",
  ${isoUtc('created_at')} AS "createdAt", ${isoUtc('updated_at')} AS "updatedAt"`;

export async function getSource(datastack: string): Promise<SegmentationSource | undefined> {
  const rows = await query<SegmentationSource>(`SELECT ${SOURCE_COLUMNS} FROM segmentation_source WHERE datastack = $1`, [datastack]);
  return rows[0];
}

export async function requireSource(datastack: string): Promise<SegmentationSource> {
  const source = await getSource(datastack);
  if (!source) throw new TaskError('NoSegmentationSource', `datastack ${datastack} has no segmentation source: register one with PUT /v1/materialize/${datastack}/segmentation`);
  return source;
}

/** An object's bytes, decompressed per its Content-Encoding; undefined when there is no such object. */
export async function getObjectBytes(bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await out.Body!.transformToByteArray();
    // Precomputed writers (CloudVolume) store chunks gzip-compressed with Content-Encoding: S3 hands the bytes
    // back as stored.
    switch ((out.ContentEncoding ?? '').toLowerCase()) {
      case 'gzip':
        return new Uint8Array(await promisify(gunzip)(bytes));
      case 'br':
        return new Uint8Array(await promisify(brotliDecompress)(bytes));
      default:
        return bytes;
    }
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

/** Reads the volume's `info` and resolves the scale: what is stored, or every problem. */
export async function readVolumeScale(bucket: string, volumePrefix: string, scaleKey?: string): Promise<ScaleResult> {
  const key = infoObjectKey(volumePrefix);
  const bytes = await getObjectBytes(bucket, key);
  if (!bytes) return { ok: false, problems: [{ code: 'INFO_NOT_FOUND', message: `there is no s3://${bucket}/${key}` }] };
  return resolveScaleFromText(Buffer.from(bytes).toString('utf8'), scaleKey);
}

export interface SourceRegistration {
  datastack: string;
  bucket: string;
  volumePrefix: string;
  scale: VolumeScale;
  positionUnitNm?: Vec3;
  fillMissing: boolean;
}

/**
 * Registers (or replaces) a datastack's segmentation source, and creates the datastack's schema and supervoxel →
 * root table if missing. Replacing the volume keeps the supervoxel ids already looked up and the refresh time.
 */
export async function registerSource(reg: SourceRegistration): Promise<SegmentationSource> {
  const schema = datastackSchema(reg.datastack);
  await transaction(async (client) => {
    // The same lock as a bulk upload's Prepare: CREATE … IF NOT EXISTS races on the catalog otherwise.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    for (const sql of supervoxelRootDdl()) await client.query(sql);
    await client.query(
      `INSERT INTO public.segmentation_source (datastack, bucket, volume_prefix, scale_key, position_unit_nm, resolution_nm, fill_missing)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (datastack) DO UPDATE SET bucket = EXCLUDED.bucket, volume_prefix = EXCLUDED.volume_prefix, scale_key = EXCLUDED.scale_key,
         position_unit_nm = EXCLUDED.position_unit_nm, resolution_nm = EXCLUDED.resolution_nm, fill_missing = EXCLUDED.fill_missing`,
      [reg.datastack, reg.bucket, normalizeVolumePrefix(reg.volumePrefix), reg.scale.key, reg.positionUnitNm ?? reg.scale.resolution, reg.scale.resolution, reg.fillMissing],
    );
  });
  return (await getSource(reg.datastack))!;
}

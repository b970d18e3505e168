// Frozen versions of a datastack: their names, the cadences that make them and how long each lives, and the
// retention policy that decides which expired ones removal drops. Pure.
//
// Retention (as CAVE does it): a version may be dropped once its expiry has passed, but removal never drops
// the newest valid version (readers always have one), and never brings a datastack below `keep` valid
// versions; among the expired ones it drops the oldest first.
import { DATASTACK } from '../datastack.ts';

export const VERSION_STATES = ['building', 'valid', 'failed', 'expired'] as const;
export type VersionState = (typeof VERSION_STATES)[number];

export const SCHEDULED_CADENCES = ['daily', 'weekly', 'monthly'] as const;
export type ScheduledCadence = (typeof SCHEDULED_CADENCES)[number];
export const VERSION_CADENCES = ['manual', ...SCHEDULED_CADENCES] as const;
export type VersionCadence = (typeof VERSION_CADENCES)[number];

export const DEFAULT_EXPIRES_IN_DAYS = 5;
export const MAX_EXPIRES_IN_DAYS = 3650;
export const DEFAULT_KEEP_VERSIONS = 5;
/** Short-lived daily versions, a weekly one for a working week's analyses, a monthly one kept long-term. */
export const DEFAULT_SCHEDULED_EXPIRY_DAYS: Readonly<Record<ScheduledCadence, number>> = { daily: 2, weekly: 7, monthly: 30 };

const DAY_MS = 86_400_000;

/** Days a version made at this cadence lives: what was asked for, else the cadence's configured default. */
export function expiryDaysFor(
  cadence: VersionCadence,
  requested?: number,
  configured: Readonly<Record<ScheduledCadence, number>> = DEFAULT_SCHEDULED_EXPIRY_DAYS,
): number {
  const days = requested ?? (cadence === 'manual' ? DEFAULT_EXPIRES_IN_DAYS : configured[cadence]);
  if (!Number.isInteger(days) || days < 1 || days > MAX_EXPIRES_IN_DAYS) throw new RangeError(`a version lives 1 to ${MAX_EXPIRES_IN_DAYS} whole days, not ${days}`);
  return days;
}

export const expiresAt = (validAt: Date, days: number): Date => new Date(validAt.getTime() + days * DAY_MS);

// ---- names ----

const VERSION_SCHEMA = /^dsv_([a-z][a-z0-9_]{0,39})__v([1-9][0-9]{0,9})$/;

/**
 * The PostgreSQL schema of version `version` of a datastack: `dsv_<datastack>__v<N>`. Not `ds_…`: a datastack
 * may be named `x__v1`, whose live schema `ds_x__v1` would be version 1 of datastack `x`.
 */
export function versionSchemaName(datastack: string, version: number): string {
  if (!DATASTACK.test(datastack)) throw new Error(`not a datastack name: ${JSON.stringify(datastack)}`);
  if (!Number.isInteger(version) || version < 1 || version > 2_147_483_647) throw new RangeError(`not a version number: ${version}`);
  return `dsv_${datastack}__v${version}`;
}

/** The datastack and version a version schema belongs to; undefined for any other name. */
export function parseVersionSchemaName(schema: string): { datastack: string; version: number } | undefined {
  const m = VERSION_SCHEMA.exec(schema);
  if (!m) return undefined;
  const version = Number(m[2]);
  return version <= 2_147_483_647 ? { datastack: m[1]!, version } : undefined;
}

/**
 * The period a scheduled version stands for (UTC): `2026-11-22` (daily), `2026-W47` (ISO week), `2026-11`
 * (monthly). Its job id carries it, so a schedule delivered twice in one period starts one version.
 */
export function cadencePeriod(cadence: ScheduledCadence, at: Date): string {
  const iso = at.toISOString();
  if (cadence === 'daily') return iso.slice(0, 10);
  if (cadence === 'monthly') return iso.slice(0, 7);
  // ISO 8601 week: the week with the year's first Thursday is week 1; weeks start on Monday.
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

// ---- retention ----

export interface VersionLife {
  readonly version: number;
  readonly state: VersionState;
  readonly expiresAt: Date | null;
}

/** The versions of one datastack that removal drops at `now`, oldest first. */
export function versionsToRemove(versions: readonly VersionLife[], now: Date, keep: number = DEFAULT_KEEP_VERSIONS): number[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer, not ${keep}`);
  const valid = versions.filter((v) => v.state === 'valid').sort((a, b) => a.version - b.version);
  const newest = valid.at(-1)?.version;
  let remaining = valid.length;
  const drop: number[] = [];
  for (const v of valid) {
    if (remaining <= keep) break;
    if (v.version === newest || v.expiresAt === null || v.expiresAt.getTime() > now.getTime()) continue;
    drop.push(v.version);
    remaining--;
  }
  return drop;
}

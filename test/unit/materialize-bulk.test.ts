// The pure parts of the bulk upload around the core: names, the plan rebuilt from the headers Prepare read,
// the workflow's shape, the job kind.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bulkUploadJobId, initialSteps } from '../../functions/jobs/job.ts';
import { MappingText, normalizePrefix, planOf, UploadFileSchema } from '../../functions/materialize/bulk/upload.ts';
import { datastackSchema } from '../../functions/materialize/datastack.ts';
import { TaskError } from '../../functions/lib/errors.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { parseNpyHeader } from '../../functions/materialize/npy.ts';
import { createTableSql } from '../../functions/materialize/schemas.ts';

const file = (name: string, bytes: Buffer) => ({ name, key: `p/${name}.npy`, objectSize: bytes.length, header: parseNpyHeader(bytes, bytes.length) });

describe('materialize bulk upload (pure parts)', () => {
  it('puts a datastack in its own schema, and only a plain identifier', () => {
    expect(datastackSchema('minnie65')).toBe('ds_minnie65');
    for (const bad of ['', 'Minnie', '1abc', 'a-b', 'a b', 'x"; DROP', 'a'.repeat(41)]) expect(() => datastackSchema(bad), bad).toThrow();
    expect(normalizePrefix('a/b')).toBe('a/b/');
    expect(normalizePrefix('a/b/')).toBe('a/b/');
    expect(bulkUploadJobId('minnie65', 'abc')).toBe('bulk-minnie65-abc');
    expect(Object.keys(initialSteps('bulk-upload'))).toEqual(['prepare', 'load', 'finish']);
  });

  it('rebuilds the load plan from the headers the workflow carries (through JSON), or fails with every problem', () => {
    const id = encodeNpy({ dtype: 'int64', shape: [5], values: [1n, 2n, 3n, 4n, 5n] });
    const pt = encodeNpy({ dtype: 'int32', shape: [5, 3], fortranOrder: true, values: Array.from({ length: 15 }, (_, i) => i) });
    const files = JSON.parse(JSON.stringify([file('id', id), file('pt', pt)])).map((f: unknown) => UploadFileSchema.parse(f));
    const plan = planOf({ schema: 'point', table: 'cells', columnMapping: { id: 'id', pt: 'pt_position' } }, files);
    expect(plan.rows).toBe(5);
    expect(plan.tables.map((t) => t.name)).toEqual(['cells', 'cells__seg']);
    expect(() => planOf({ schema: 'point', table: 'cells', columnMapping: { id: 'id', pt: 'nope' } }, files)).toThrow(TaskError);
  });

  it('reads the mapping from the job input text', () => {
    expect(MappingText.parse('{"a":"id","b":["x","y"]}')).toEqual({ a: 'id', b: ['x', 'y'] });
    expect(MappingText.safeParse('{oops').success).toBe(false);
    expect(MappingText.safeParse('{"a":3}').success).toBe(false);
  });

  it('creates tables only when missing', () => {
    const t = { name: 'cells', columns: [{ name: 'id', sqlType: 'bigint', notNull: true, target: 'int8' as const }] };
    expect(createTableSql(t, { ifNotExists: true })).toBe('CREATE TABLE IF NOT EXISTS "cells" ("id" bigint NOT NULL)');
  });

  it('loads chunks 4 at a time, discards a failed upload and records the outcome either way', () => {
    const asl = JSON.parse(readFileSync('statemachines/bulk-upload.asl.json', 'utf8'));
    expect(asl.StartAt).toBe('Prepare');
    expect(asl.States.Prepare.Next).toBe('LoadChunks');
    expect(asl.States.LoadChunks).toMatchObject({ Type: 'Map', MaxConcurrency: 4, ItemsPath: '$.prepared.chunks', Next: 'Finish' });
    expect(asl.States.Finish.Next).toBe('RecordSuccess');
    for (const s of ['Prepare', 'LoadChunks', 'Finish']) expect(asl.States[s].Catch[0]).toMatchObject({ ResultPath: '$.error', Next: 'DiscardUpload' });
    // The discard keeps the error for the record, and a failed discard still records the failure.
    expect(asl.States.DiscardUpload).toMatchObject({ Type: 'Task', ResultPath: null, Next: 'RecordFailure' });
    expect(asl.States.DiscardUpload.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' });
    expect(asl.States.DiscardUpload.Catch[0].ResultPath).not.toBe('$.error');
    // Duplicate ids are found again on every attempt: matched before the catch-all retrier, never retried.
    const retry = asl.States.Finish.Retry as { ErrorEquals: string[]; MaxAttempts: number }[];
    const duplicate = retry.findIndex((r) => r.ErrorEquals.includes('DuplicateIds'));
    expect(retry[duplicate]?.MaxAttempts).toBe(0);
    expect(duplicate).toBeLessThan(retry.findIndex((r) => r.ErrorEquals.includes('States.ALL')));
  });
});

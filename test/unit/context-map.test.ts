// The README's context map is the topology's, and what each context declares it owns is what the migrations create,
// what its functions may write and what its code names.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextMap, MAP_END, MAP_START } from '../../infra/context-map.ts';
import { CONTEXT_OWNERSHIP, CONTEXTS, contextOf, topology, type ContextName } from '../../infra/topology.ts';

const root = join(import.meta.dirname, '../..');
const owned = (kind: 'postgres' | 'mongodb' | 'dynamodb' | 'prefixes') => CONTEXTS.flatMap((c) => (CONTEXT_OWNERSHIP[c][kind] ?? []).map((name) => ({ name, context: c })));
const ownerOf = (kind: 'postgres' | 'mongodb' | 'dynamodb' | 'prefixes', name: string): ContextName[] => owned(kind).filter((o) => o.name === name).map((o) => o.context);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the context map', () => {
  it("is in the README as the topology prints it (npm run docs:map writes it)", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf(MAP_START);
    const end = readme.indexOf(MAP_END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + MAP_START.length, end).trim()).toBe(contextMap());
  });

  it('lists every context in dependency order with every route once', () => {
    const rows = contextMap().split('\n').slice(2);
    expect(rows.map((r) => /\*\*(\w+)\*\*/.exec(r)?.[1])).toEqual([...CONTEXTS]);
    const routeCount = rows.reduce((n, r) => n + Number(/\| (\d+): /.exec(r)?.[1] ?? 0), 0);
    const topologyRoutes = topology.functions.flatMap((f) => f.triggers.flatMap((t) => (t.kind === 'http' ? t.routes : [])));
    expect(routeCount).toBe(topologyRoutes.length);
  });
});

describe('what each context owns', () => {
  it('every PostgreSQL table the migrations create has one owner, and every owned table exists', () => {
    const sql = [
      ...readdirSync(join(root, 'migrations')).map((f) => readFileSync(join(root, 'migrations', f), 'utf8')),
      readFileSync(join(root, 'functions/lib/migrate.ts'), 'utf8'),
    ].join('\n');
    const created = [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/gi)].map((m) => m[1]!);
    expect(created.length).toBeGreaterThan(20);
    for (const table of created) expect(ownerOf('postgres', table), table).toHaveLength(1);
    for (const { name } of owned('postgres').filter((o) => !o.name.includes('<'))) expect(created, name).toContain(name);
  });

  it('every DynamoDB table of the topology has one owner', () => {
    for (const t of topology.tables) expect(ownerOf('dynamodb', t.name), t.name).toHaveLength(1);
    for (const { name } of owned('dynamodb')) expect(topology.tables.map((t) => t.name)).toContain(name);
  });

  it("a function writes only under its own context's prefixes, and every prefix any function uses has one owner", () => {
    const used = new Set<string>();
    for (const fn of topology.functions) {
      for (const use of fn.uses.buckets ?? []) {
        for (const prefix of use.prefixes) {
          const key = `${use.name}:${prefix}`;
          used.add(key);
          expect(ownerOf('prefixes', key), `${fn.name} uses ${key}`).toHaveLength(1);
          // a restore makes a temporary readable copy of an archived object: the object itself does not change
          const writes = use.access !== 'read' && use.access !== 'restore';
          if (writes) expect(ownerOf('prefixes', key), `${fn.name} writes ${key}`).toEqual([contextOf(fn)]);
        }
      }
    }
    for (const { name } of owned('prefixes')) expect(used, name).toContain(name);
  });

  it("a MongoDB collection is named only in its owner's code", () => {
    const folders = readdirSync(join(root, 'functions'));
    for (const { name, context } of owned('mongodb')) {
      const namedIn = folders.filter((folder) => filesUnder(join(root, 'functions', folder)).some((f) => readFileSync(f, 'utf8').includes(`'${name}'`)));
      expect(namedIn, name).toEqual([context]);
    }
  });
});

// Whatever the functions ask of MongoDB must be listed in functions/lib/mongo-compat.ts, and what is listed must
// be in DocumentDB 5.0's supported set. The sources are parsed (TypeScript's parser), not grepped: comments and
// type members do not count, object keys and calls do.
import { readdirSync, readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { AggregationCursor, Admin, ChangeStream, ClientSession, Collection, Db, FindCursor, GridFSBucket, MongoClient } from 'mongodb';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DOCUMENTDB_5_0, DOCUMENTDB_5_0_UNSUPPORTED, MONGO_USED, type MongoFeature } from '../../functions/lib/mongo-compat.ts';
import { DOCUMENTDB_URI_OPTIONS } from '../../functions/lib/mongo.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FUNCTIONS = path.join(ROOT, 'functions');
const COMPAT_FILE = path.join(FUNCTIONS, 'lib', 'mongo-compat.ts');

// ---- the scanner's vocabulary: taken from the driver where it can be ----

const methodNames = (...classes: { prototype: object }[]): Set<string> => {
  const names = new Set<string>();
  for (const c of classes) {
    for (let p: object | null = c.prototype; p && p !== Object.prototype && p !== EventEmitter.prototype; p = Object.getPrototypeOf(p)) {
      for (const n of Object.getOwnPropertyNames(p)) if (n !== 'constructor') names.add(n);
    }
  }
  return names;
};
const arrayMethods = new Set(Object.getOwnPropertyNames(Array.prototype));
/** Methods of the driver's client, database, collection, session and GridFS objects, and of its cursors except those an array has too (map, filter, forEach: client-side on a cursor, and everywhere on arrays). */
const DRIVER_METHODS = new Set([
  ...methodNames(MongoClient, Db, Collection, Admin, ClientSession, GridFSBucket),
  ...[...methodNames(FindCursor, AggregationCursor, ChangeStream)].filter((n) => !arrayMethods.has(n)),
]);
const driverInternals = createRequire(import.meta.url);
const { OPTIONS } = driverInternals('mongodb/lib/connection_string.js') as { OPTIONS: Record<string, unknown> };
const { LEGAL_TLS_SOCKET_OPTIONS, LEGAL_TCP_SOCKET_OPTIONS } = driverInternals('mongodb/lib/cmap/connect.js') as Record<string, string[]>;
/** Every option MongoClient takes, in a URI or as an object key. */
const CLIENT_OPTIONS = new Set([...Object.keys(OPTIONS), ...LEGAL_TLS_SOCKET_OPTIONS!, ...LEGAL_TCP_SOCKET_OPTIONS!]);
/** Options of operations (no list of them exists at run time): those DocumentDB treats differently, and the common ones. */
const OPERATION_OPTIONS = new Set([
  'upsert', 'projection', 'sort', 'limit', 'skip', 'hint', 'collation', 'arrayFilters', 'bypassDocumentValidation', 'let', 'comment', 'allowDiskUse', 'session',
  'readConcern', 'writeConcern', 'maxTimeMS', 'returnDocument', 'ordered', 'batchSize', 'fullDocument', 'fullDocumentBeforeChange', 'resumeAfter', 'startAfter',
  'startAtOperationTime', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'weights', 'wildcardProjection', 'hidden', 'capped', 'validator',
]);

// ---- the scanner ----

/** Names of MongoDB features one source uses. */
function mongoUsage(fileName: string, source: string): Set<string> {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const usesMongo = file.statements.some((s) => ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) &&
    (s.moduleSpecifier.text === 'mongodb' || /(^|\/)mongo\.ts$/.test(s.moduleSpecifier.text)));
  const found = new Set<string>();
  const keyText = (name: ts.PropertyName): string | undefined =>
    ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text :
      ts.isComputedPropertyName(name) && ts.isStringLiteralLike(name.expression) ? name.expression.text : undefined;
  const visit = (node: ts.Node): void => {
    if ((ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node) || ts.isMethodDeclaration(node)) && ts.isObjectLiteralExpression(node.parent)) {
      const key = keyText(node.name);
      if (key?.startsWith('$')) found.add(key);
      for (const positional of key?.match(/\.\$(\[[^\]]*\])?/g) ?? []) found.add(positional.slice(1).replace(/\[[^\]]+\]/, '[<identifier>]'));
      if (usesMongo && key && (CLIENT_OPTIONS.has(key) || OPERATION_OPTIONS.has(key))) {
        found.add(key);
        if (key === 'retryWrites' && ts.isPropertyAssignment(node) && node.initializer.kind === ts.SyntaxKind.TrueKeyword) found.add('retryWrites=true');
      }
    }
    if (usesMongo && ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && DRIVER_METHODS.has(node.expression.name.text)) {
      found.add(node.expression.name.text);
    }
    if (usesMongo && (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node))) {
      for (const [, name, value] of node.text.matchAll(/([A-Za-z]+)=([^&\s]*)/g)) {
        if (!CLIENT_OPTIONS.has(name!)) continue;
        found.add(name!);
        if (name === 'retryWrites' && value !== 'false') found.add('retryWrites=true');
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const sourcesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => f !== COMPAT_FILE);

/** Where each feature the code uses is used. */
function usageOf(files: { name: string; source: string }[]): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const { name, source } of files) for (const f of mongoUsage(name, source)) where.set(f, [...(where.get(f) ?? []), name]);
  return where;
}

/** Features used but not listed. */
const unlisted = (usage: Map<string, string[]>, used: Readonly<Record<string, MongoFeature>>): string[] =>
  [...usage].filter(([name]) => !Object.hasOwn(used, name)).map(([name, files]) => `${name} (${files.map((f) => path.relative(ROOT, f)).join(', ')})`);

/** Listed features DocumentDB 5.0 does not support, or that are not found in its transcribed supported set. */
function notInDocumentDb(used: Readonly<Record<string, MongoFeature>>): string[] {
  const problems: string[] = [];
  for (const [name, feature] of Object.entries(used)) {
    if (Object.hasOwn(DOCUMENTDB_5_0_UNSUPPORTED, name)) problems.push(`${name}: ${DOCUMENTDB_5_0_UNSUPPORTED[name]}`);
    if (feature.kind === 'driver method') {
      if (feature.command !== null && !DOCUMENTDB_5_0.command.names.includes(feature.command)) problems.push(`${name}: command ${feature.command} not in DocumentDB 5.0's commands`);
    } else if (!DOCUMENTDB_5_0[feature.kind].names.includes(name)) {
      problems.push(`${name}: not among DocumentDB 5.0's ${feature.kind}s (${DOCUMENTDB_5_0[feature.kind].source})`);
    }
  }
  return problems;
}

const functionSources = () => sourcesUnder(FUNCTIONS).map((name) => ({ name, source: readFileSync(name, 'utf8') }));

describe('MongoDB features the functions use', () => {
  it('are all listed in functions/lib/mongo-compat.ts', () => {
    const usage = usageOf(functionSources());
    // the scan sees the real code: the store's filters and calls, and the client's options
    expect([...usage.keys()]).toEqual(expect.arrayContaining(['$in', '$nin', 'replaceOne', 'deleteMany', 'find', 'upsert', 'projection', 'ca', 'retryWrites', 'tls']));
    expect(unlisted(usage, MONGO_USED)).toEqual([]);
  });

  it('are each in DocumentDB 5.0\'s supported set and never among what it does not support', () => {
    expect(notInDocumentDb(MONGO_USED)).toEqual([]);
    expect(DOCUMENTDB_URI_OPTIONS).toContain('retryWrites=false');
  });

  it('the list holds nothing the code no longer uses', () => {
    const usage = usageOf(functionSources());
    expect(Object.keys(MONGO_USED).filter((name) => !usage.has(name))).toEqual([]);
  });
});

describe('the check fails for code outside the list', () => {
  const fixture = {
    name: path.join(FUNCTIONS, 'analytics', 'fixture.ts'),
    source: `
      import { mongo } from '../lib/mongo.ts';
      // a comment naming $where or .watch() is not code
      export async function touch(videoId: string) {
        const db = await mongo();
        await db.collection('rollups').updateMany({ videoId, $where: 'this.n > 1' }, { $set: { 'buckets.$[b].n': 0 } }, { arrayFilters: [{ 'b.n': { $gt: 1 } }], collation: { locale: 'fr' } });
        db.collection('rollups').watch();
      }
      export const uri = 'mongodb://h:27017/?tls=true&retryWrites=true';
    `,
  };

  it('finds the operators, methods and options a source uses', () => {
    expect([...mongoUsage(fixture.name, fixture.source)].sort()).toEqual(
      ['$[<identifier>]', '$gt', '$set', '$where', 'arrayFilters', 'collation', 'collection', 'retryWrites', 'retryWrites=true', 'tls', 'updateMany', 'watch'].sort(),
    );
  });

  it('reports every one of them that is not listed', () => {
    const reported = unlisted(usageOf([fixture]), MONGO_USED).map((r) => r.split(' ')[0]);
    expect(reported.sort()).toEqual(['$[<identifier>]', '$gt', '$where', 'arrayFilters', 'collation', 'retryWrites=true', 'updateMany', 'watch'].sort());
  });

  it('reports listed entries DocumentDB 5.0 does not support', () => {
    const problems = notInDocumentDb({
      ...MONGO_USED,
      $where: { kind: 'query operator', why: 'fixture' },
      $graphLookup: { kind: 'aggregation stage', why: 'fixture' },
      mapReduce: { kind: 'driver method', command: 'mapReduce', why: 'fixture' },
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['$where', '$where', '$graphLookup', 'mapReduce', 'mapReduce']);
  });
});

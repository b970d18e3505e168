// The DocumentDB CAs travel inside each function's bundle: esbuild, with the functions' bundling options,
// inlines them, and the bundled module hands them out without any node_modules next to it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLING } from '../../infra/cdk/functions.ts';
import { PROJECT_ROOT } from '../../infra/cdk/names.ts';
import { topology } from '../../infra/topology.ts';
import { DOCUMENTDB_CA } from '../../functions/lib/mongo.ts';

const bundle = async (entry: string): Promise<string> => {
  const out = await build({
    entryPoints: [path.join(PROJECT_ROOT, entry)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    mainFields: BUNDLING.mainFields,
    banner: { js: BUNDLING.banner! },
    external: BUNDLING.externalModules,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
};
/** A line from the middle of a PEM: base64 that no other text would contain. */
const pemLine = (pem: string) => pem.split('\n')[5]!;

const dir = mkdtempSync(path.join(tmpdir(), 'framewise-mongo-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the DocumentDB CA bundle in the function bundles', () => {
  it('is inlined into the bundle of every function that uses MongoDB', async () => {
    const entries = [...new Set(topology.functions.filter((f) => f.uses.mongodb).map((f) => f.entry))];
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const text = await bundle(entry);
      for (const pem of [DOCUMENTDB_CA[0]!, DOCUMENTDB_CA.at(-1)!]) expect(text.includes(pemLine(pem)), entry).toBe(true);
    }
  }, 120_000);

  it('is what the bundled connection module trusts, away from node_modules', async () => {
    const file = path.join(dir, 'mongo.mjs');
    writeFileSync(file, await bundle('functions/lib/mongo.ts'));
    const bundled = (await import(pathToFileURL(file).href)) as typeof import('../../functions/lib/mongo.ts');
    expect(bundled.DOCUMENTDB_CA).toEqual(DOCUMENTDB_CA);
    const secret = JSON.stringify({ host: 'h.docdb.amazonaws.com', port: 27017, username: 'u', password: 'p' });
    expect(bundled.mongoConnectionFromSecret(secret).options.ca).toEqual([...DOCUMENTDB_CA]);
  }, 120_000);
});

// Each function's code bundled as Lambda gets it (infra/bundling.ts), with the instance runtime
// (function-instance.ts) in front of its handler: one plain JavaScript file a worker runs without a TypeScript loader.
// A bundle loads in a fraction of the time its TypeScript sources and packages take to resolve and load one by one,
// which every new instance would pay. Bundles are kept under node_modules/.cache and built again when one of their
// inputs changed, so that a restarted local cloud starts its instances at once. V8's code compiled from them is kept
// there too (Node's compile cache, see compileCacheDir).
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { FUNCTION_BUNDLE } from '../bundling.ts';

const INSTANCE_RUNTIME = join(import.meta.dirname, 'function-instance.ts');

interface Inputs {
  /** Input file → its modification time when bundled. */
  readonly mtimes: Record<string, number>;
}

const mtime = (file: string): number | undefined => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

export class FunctionBundles {
  private readonly built = new Map<string, Promise<string>>();

  constructor(
    private readonly root: string,
    private readonly cacheDir = join(root, 'node_modules', '.cache', 'framewise-functions'),
  ) {}

  /**
   * Where instances keep the code V8 compiled from the bundles (NODE_COMPILE_CACHE of their worker): a new instance
   * then loads its bundle without compiling it again, in a fraction of the time (the ingest starts eight at once, and
   * each step of a workflow starts cold). Node checks each entry against the source, so a rebuilt bundle compiles anew.
   */
  get compileCacheDir(): string {
    return join(this.cacheDir, 'compiled');
  }

  /** The path of the bundle of `entry` (relative to the project root): reused while its inputs are unchanged. */
  bundle(entry: string): Promise<string> {
    let built = this.built.get(entry);
    if (!built) {
      built = this.build(entry);
      this.built.set(entry, built);
      built.catch(() => this.built.delete(entry)); // a fixed source builds on the next invocation
    }
    return built;
  }

  private async build(entry: string): Promise<string> {
    const name = createHash('sha256').update(resolve(this.root, entry)).digest('hex').slice(0, 16);
    const outfile = join(this.cacheDir, `${name}.mjs`);
    const inputsFile = join(this.cacheDir, `${name}.inputs.json`);
    try {
      const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as Inputs;
      if (mtime(outfile) !== undefined && Object.entries(inputs.mtimes).every(([file, ms]) => mtime(file) === ms)) return outfile;
    } catch {
      // no bundle yet, or a torn one: build it
    }
    mkdirSync(this.cacheDir, { recursive: true });
    const result = await build({
      stdin: {
        contents: `import * as fn from ${JSON.stringify(resolve(this.root, entry))};\nimport { serve } from ${JSON.stringify(INSTANCE_RUNTIME)};\nserve(fn.handler, ${JSON.stringify(entry)});\n`,
        resolveDir: this.root,
        sourcefile: `instance-of-${entry}`,
        loader: 'js',
      },
      absWorkingDir: this.root,
      bundle: true,
      platform: 'node',
      format: FUNCTION_BUNDLE.format,
      target: FUNCTION_BUNDLE.target,
      mainFields: [...FUNCTION_BUNDLE.mainFields],
      banner: { js: FUNCTION_BUNDLE.banner },
      external: [...FUNCTION_BUNDLE.external],
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      write: false,
      outfile,
      logLevel: 'silent',
    });
    const mtimes: Record<string, number> = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      const file = resolve(this.root, input);
      const ms = mtime(file);
      if (ms !== undefined) mtimes[file] = ms;
    }
    // Written aside and renamed: another local cloud may be reading or building the same bundle.
    for (const out of result.outputFiles) {
      const tmp = `${out.path}.${randomUUID()}.tmp`;
      writeFileSync(tmp, out.contents);
      renameSync(tmp, out.path);
    }
    const tmp = `${inputsFile}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify({ mtimes } satisfies Inputs));
    renameSync(tmp, inputsFile);
    return outfile;
  }
}

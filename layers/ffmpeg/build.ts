// Builds the ffmpeg Lambda layer: copies the linux-x64 ffmpeg and ffprobe binaries out of their npm
// packages into layers/ffmpeg/build/bin/ (a layer's bin/ is mounted at /opt/bin), mode 0755 (the ffprobe
// file in its package is 0744, not executable for the Lambda user). Idempotent and cheap when up to date.
// CDK calls buildFfmpegLayer() at synth time; `npx tsx layers/ffmpeg/build.ts` runs it by hand.
import { chmodSync, copyFileSync, mkdirSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** The directory Code.fromAsset uses: it holds bin/ffmpeg and bin/ffprobe. */
export const FFMPEG_LAYER_DIR = path.join(here, 'build');

/** Binaries shipped in the layer: file name -> npm package holding the linux-x64 build. */
const BINARIES = {
  ffmpeg: '@ffmpeg-installer/linux-x64',
  ffprobe: '@ffprobe-installer/linux-x64',
} as const;

function packageBinary(pkg: string, file: string): string {
  // The packages have no main entry; their package.json is resolvable and the binary sits beside it.
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch (cause) {
    throw new Error(`${pkg} is not installed (it is a devDependency via @ffmpeg-installer/ffmpeg / @ffprobe-installer/ffprobe)`, { cause });
  }
  return path.join(path.dirname(pkgJson), file);
}

function upToDate(src: string, dest: string): boolean {
  try {
    const s = statSync(src);
    const d = statSync(dest);
    return s.size === d.size && Math.trunc(s.mtimeMs) === Math.trunc(d.mtimeMs) && (d.mode & 0o777) === 0o755;
  } catch {
    return false;
  }
}

/** Copies the binaries (when changed) and returns {@link FFMPEG_LAYER_DIR}. */
export function buildFfmpegLayer(outDir: string = FFMPEG_LAYER_DIR): string {
  const binDir = path.join(outDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  for (const [file, pkg] of Object.entries(BINARIES)) {
    const src = packageBinary(pkg, file);
    const dest = path.join(binDir, file);
    if (upToDate(src, dest)) continue;
    copyFileSync(src, dest);
    chmodSync(dest, 0o755);
    const { atime, mtime } = statSync(src);
    utimesSync(dest, atime, mtime); // lets the next build see it is up to date
  }
  return outDir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = buildFfmpegLayer();
  console.log(`ffmpeg layer built in ${path.relative(process.cwd(), dir) || '.'}`);
}

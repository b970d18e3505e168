// One measured step of `npm run bench:tiles`, in a process of its own so that its peak memory is its own:
//   node --import tsx bench/tiles-run.ts dz|dice|thumbnail INPUT OUT
// prints the step's own wall time in milliseconds, its CPU seconds (every thread of the process, from the step's start,
// so without Node's own start), and the files and bytes it wrote, as JSON.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_PYRAMID_SETTINGS, dice, diceDeepZoom, writeThumbnail } from '../functions/slides/pyramid.ts';
import { inspectSlideImage } from '../functions/slides/slide-image.ts';

const [step, input, out] = process.argv.slice(2) as [string, string, string];
const settings = DEFAULT_PYRAMID_SETTINGS;
mkdirSync(out, { recursive: true });
const started = performance.now();
const cpuStarted = process.cpuUsage();
const image = await inspectSlideImage(input, basename(input), settings.maxInputPixels);
if (step === 'dz') await diceDeepZoom(input, basename(input), out, settings);
if (step === 'dice') await dice(input, basename(input), out, 'https://bench.invalid/iiif', settings);
if (step === 'thumbnail') await writeThumbnail(input, basename(input), join(out, 'thumbnail.jpg'), image, settings.thumbnailSize, settings);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuStarted);
const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
const bytes = files.reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
console.log(JSON.stringify({ ms, cpuS: (cpu.user + cpu.system) / 1e6, files: files.length, bytes }));

// `framewise`: the command line of the pipeline (see `framewise --help`). Commander wiring only: each command
// lives in cli/commands/ and returns its exit code (0 success, 1 failure, 2 error, 130 interrupted).
import { Command, CommanderError, Option } from 'commander';
import { Api } from './api.ts';
import { ConfigError, resolveConfig } from './config.ts';
import { finish, processOutput, type CommandContext } from './commands/common.ts';
import { runAnnotateProcess, runProjectsCreate, runProjectsList } from './commands/annotate.ts';
import { runDatasetsCreate, runDatasetsDownload, runDatasetsStatus } from './commands/datasets.ts';
import { runDetectables } from './commands/detectables.ts';
import { runIngest, DEFAULT_FRAME_RATE, DEFAULT_THRESHOLD } from './commands/ingest.ts';
import { runJob } from './commands/job.ts';
import { DEFAULT_MATCHED_FILE, runLabelsMatch } from './commands/labels.ts';
import { RESOLUTIONS, runMetrics } from './commands/metrics.ts';
import { runSlidesLs, runSlidesUpload } from './commands/slides.ts';
import { EXIT_CODES } from './status.ts';

interface GlobalOptions {
  apiUrl?: string;
  apiKey?: string;
}

/** Resolves the API and key, runs the command with Ctrl-C wired to its signal, and sets the exit code. */
async function execute(cmd: Command, opts: { json?: boolean }, body: (ctx: CommandContext) => Promise<number>): Promise<void> {
  const output = processOutput();
  const flags = cmd.optsWithGlobals<GlobalOptions>();
  let api: Api;
  try {
    const config = resolveConfig({ flags: { apiUrl: flags.apiUrl, apiKey: flags.apiKey }, env: process.env, cwd: process.cwd() });
    api = new Api(config.apiUrl, config.apiKey);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.exitCode = finish({ kind: 'invalid', message: err.message }, output, opts);
    return;
  }
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.interrupted); // a second Ctrl-C: leave now
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const code = await body({ api, output, signal: controller.signal });
    // an interrupted upload may still hold sockets open: do not wait for them
    if (code === EXIT_CODES.interrupted) process.exit(code);
    process.exitCode = code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

const program = new Command('framewise')
  .description('Framewise pipeline client: detectables, label maps, video ingestion, jobs and metrics')
  .option('--api-url <url>', 'the HTTP API (default: $FRAMEWISE_API_URL, else "api" in .local/endpoints.json)')
  .option('--api-key <key>', 'the API key (default: $FRAMEWISE_API_KEY, else "adminApiKey" in .local/credentials.json)')
  .showHelpAfterError()
  .exitOverride();

program
  .command('detectables')
  .description('list every detectable the API knows')
  .option('--json', 'print JSON: [{ id, name }]')
  .action((opts: { json?: boolean }, cmd: Command) => execute(cmd, opts, (ctx) => runDetectables(opts, ctx)));

program
  .command('labels')
  .description("the detector's label map")
  .command('match')
  .description('match a label map (lines "<index> <label>") to detectables by name, case-insensitively, and write the mapping')
  .argument('<label_mapping>', 'the label map file, e.g. label_mapping.txt')
  .option('--out <file>', 'where to write the mapping', DEFAULT_MATCHED_FILE)
  .action((file: string, opts: { out: string }, cmd: Command) => execute(cmd, {}, (ctx) => runLabelsMatch({ file, out: opts.out }, ctx)));

program
  .command('ingest')
  .description('upload a video and its localizations, confirm receipt, and follow the ingest job to its end')
  .requiredOption('--video <id>', 'the video (created in the catalog)')
  .requiredOption('--file <path>', 'the video file, e.g. game.mp4')
  .requiredOption('--localizations <path>', "the detector's localizations JSON")
  .option('--label-mapping <path>', 'the label map that resolves "class" numbers in the localizations')
  .option('--frame-rate <fps>', 'frames per second to extract (0 < fps <= 60)', String(DEFAULT_FRAME_RATE))
  .option('--threshold <score>', 'minimum detection score counted (0..1)', String(DEFAULT_THRESHOLD))
  .option('--no-follow', 'stop once the pipeline has received the upload')
  .addHelpText('after', '\nEnds with "status: success" (exit 0), "status: failure" (exit 1) or "status: error" (exit 2).')
  .action(
    (
      opts: { video: string; file: string; localizations: string; labelMapping?: string; frameRate: string; threshold: string; follow: boolean },
      cmd: Command,
    ) => execute(cmd, {}, (ctx) => runIngest(opts, ctx)),
  );

const slides = program.command('slides').description('slide images: resumable uploads into sessions, and their state');
slides
  .command('upload')
  .description('upload slide images into a session, each with its progress; run it again to resume: only the missing parts are sent')
  .argument('<files...>', 'the images (JPEG, PNG, TIFF, ...)')
  .requiredOption('--session <id>', 'the slide session')
  .action((files: string[], opts: { session: string }, cmd: Command) => execute(cmd, {}, (ctx) => runSlidesUpload(files, opts, ctx)));
slides
  .command('ls')
  .description("list the sessions, or a session's images with their state and progress")
  .option('--session <id>', 'the session whose images to list')
  .option('--json', "print the API's JSON")
  .action((opts: { session?: string; json?: boolean }, cmd: Command) => execute(cmd, opts, (ctx) => runSlidesLs(opts, ctx)));

const annotate = program.command('annotate').description('annotation: projects, and content processed into annotation tasks');

annotate
  .command('process')
  .description('upload a video (or an image, or a zip of images), process it into annotation tasks, and follow the job to its end')
  .requiredOption('--project <id>', 'the annotation project')
  .requiredOption('--file <path>', 'the content, e.g. clip.mp4 or frames.zip')
  .requiredOption('--frame-rate <fps>', 'whole frames per second to sample, at most the video\'s rate')
  .option('--request-type <0|1|2>', '0: tasks; 1: tasks and auto annotations; 2: auto annotations onto existing tasks', '0')
  .option('--auto-anno-version <n>', 'the prediction set applied as auto annotations (request types 1 and 2)', '0')
  .option('--images', 'the file is an image or a zip of images (implied by .zip, .jpg, .png)')
  .option('--force', 'process an upload processed before again (forceWrite 1)')
  .addHelpText('after', '\nEnds with "status: success" (exit 0), "status: failure" (exit 1) or "status: error" (exit 2).')
  .action((opts: { project: string; file: string; frameRate: string; requestType: string; autoAnnoVersion: string; images?: boolean; force?: boolean }, cmd: Command) =>
    execute(cmd, {}, (ctx) => runAnnotateProcess(opts, ctx)),
  );

const projects = annotate.command('projects').description('annotation projects');
projects
  .command('create')
  .description('create an annotation project')
  .requiredOption('--name <name>', 'its name (unique)')
  .requiredOption('--labels <a,b,...>', 'its labels, comma-separated')
  .option('--frames-per-task <n>', 'frames in each task (default 50)')
  .option('--json', "print the API's JSON")
  .action((opts: { name: string; labels: string; framesPerTask?: string; json?: boolean }, cmd: Command) => execute(cmd, opts, (ctx) => runProjectsCreate(opts, ctx)));
projects
  .command('list')
  .description('list the annotation projects')
  .option('--json', "print the API's JSON")
  .action((opts: { json?: boolean }, cmd: Command) => execute(cmd, opts, (ctx) => runProjectsList(opts, ctx)));

program
  .command('job')
  .description('show a job and follow it to its end')
  .argument('<jobId>', 'the job id (printed by ingest, listed by GET /v1/jobs)')
  .option('--json', 'print the final job as JSON (status on stderr)')
  .action((jobId: string, opts: { json?: boolean }, cmd: Command) => execute(cmd, opts, (ctx) => runJob({ jobId, json: opts.json }, ctx)));

program
  .command('metrics')
  .description("print a video's exposure rollup for a det_group")
  .requiredOption('--video <id>', 'the video')
  .requiredOption('--det-group <id>', 'the det_group')
  .addOption(new Option('--resolution <seconds>', 'bucket size: 1, 10, 60 seconds or the whole video').choices(RESOLUTIONS).makeOptionMandatory())
  .option('--json', "print the API's JSON")
  .action((opts: { video: string; detGroup: string; resolution: string; json?: boolean }, cmd: Command) =>
    execute(cmd, opts, (ctx) => runMetrics(opts, ctx)),
  );

const datasets = program.command('datasets').description('training datasets built from annotated tasks: versions, their progress, their zips');
datasets
  .command('create')
  .description('build the next version of a dataset from the accepted tasks of some projects, and follow its job to the end')
  .requiredOption('--name <name>', 'the dataset (a-z, 0-9, _ or -)')
  .requiredOption('--project <id...>', 'the annotation projects whose tasks it takes')
  .option('--audit-status <list>', 'tasks with these audit statuses (default 1,5: accepted, completed)')
  .option('--split <fractions>', 'tasks per split, e.g. train=0.8,val=0.2 (the default)')
  .option('--seed <seed>', 'seeds the split by task (default 0)')
  .option('--formats <list>', 'yolo, coco or both (the default)')
  .option('--no-follow', 'stop once the version is requested')
  .option('--json', 'print the version as JSON (status on stderr)')
  .addHelpText('after', '\nEnds with "status: success" (exit 0), "status: failure" (exit 1) or "status: error" (exit 2).')
  .action((opts: { name: string; project: string[]; auditStatus?: string; split?: string; seed?: string; formats?: string; follow: boolean; json?: boolean }, cmd: Command) =>
    execute(cmd, opts, (ctx) => runDatasetsCreate(opts, ctx)),
  );
datasets
  .command('status')
  .description("a dataset's versions with their progress, or one version")
  .argument('<name>', 'the dataset')
  .option('--version <n>', 'only this version')
  .option('--json', "print the API's JSON")
  .action((name: string, opts: { version?: string; json?: boolean }, cmd: Command) => execute(cmd, opts, (ctx) => runDatasetsStatus({ name, ...opts }, ctx)));
datasets
  .command('download')
  .description("a built version's zip (images, labels, data.yaml, COCO annotations, manifest)")
  .argument('<name>', 'the dataset')
  .requiredOption('--version <n>', 'the version')
  .option('--out <file>', 'where to write it (default <name>-v<n>.zip)')
  .action((name: string, opts: { version: string; out?: string }, cmd: Command) => execute(cmd, {}, (ctx) => runDatasetsDownload({ name, ...opts }, ctx)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // commander has printed the problem (or the help); a usage error is an error (2), help and --version are not
  if (!(err instanceof CommanderError)) throw err;
  process.exitCode = err.exitCode === 0 ? 0 : EXIT_CODES.error;
}

// `framewise labels match <label_mapping.txt> [--out FILE]`: matches the detector's label map to the API's
// detectables by name (case-insensitively), prints what matched and what did not, and writes the mapping:
//   { "mapping": { "<index>": { "label", "detectableId" }, ... }, "unmatched": ["<label>", ...] }
// Unmatched labels are a warning, not an error: their detections simply count for no detectable.
import { readFile, writeFile } from 'node:fs/promises';
import { matchLabels, parseLabelMapping, type LabelMatches } from '../../shared/label-map.ts';
import { LocalizationIssues } from '../../shared/issues.ts';
import { detailLines } from '../status.ts';
import { listDetectables } from './detectables.ts';
import { InputError, run, table, type CommandContext } from './common.ts';

export const DEFAULT_MATCHED_FILE = 'label_mapping.matched.json';

export interface LabelsMatchOptions {
  /** The label map: `<index> <label>` per line. */
  readonly file: string;
  /** Where the mapping is written (default label_mapping.matched.json). */
  readonly out?: string;
}

export interface MatchedMapping {
  readonly mapping: Record<string, { label: string; detectableId: string }>;
  readonly unmatched: string[];
}

/** Reads and parses a label map file; a missing file is an InputError, a malformed one the parser's LocalizationIssues. */
export async function readLabelMapping(file: string): Promise<Map<number, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read the label map ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseLabelMapping(text);
  } catch (err) {
    if (err instanceof LocalizationIssues) throw new InputError(`the label map ${file} is malformed (expected "<index> <label>" lines)`, detailLines(err.issues));
    throw err;
  }
}

/** The file written by `labels match`: each index with a matching detectable, then the labels that match none. */
export function matchedMapping(labels: ReadonlyMap<number, string>, matches: LabelMatches): MatchedMapping {
  const byLabel = new Map(matches.matched.map((m) => [m.label, m]));
  const mapping: Record<string, { label: string; detectableId: string }> = {};
  for (const [index, label] of [...labels].sort((a, b) => a[0] - b[0])) {
    const m = byLabel.get(label);
    if (m) mapping[String(index)] = { label, detectableId: m.detectableId };
  }
  return { mapping, unmatched: [...matches.unmatched] };
}

/** The matched and unmatched labels as lines, by index. */
export function matchReport(labels: ReadonlyMap<number, string>, matches: LabelMatches): string[] {
  const byLabel = new Map(matches.matched.map((m) => [m.label, m]));
  const entries = [...labels].sort((a, b) => a[0] - b[0]);
  const matched = entries.filter(([, l]) => byLabel.has(l));
  const unmatched = entries.filter(([, l]) => !byLabel.has(l));
  const lines = [`matched ${matched.length} of ${entries.length} label${entries.length === 1 ? '' : 's'}:`];
  if (matched.length > 0) {
    lines.push(
      ...table(
        matched.map(([i, l]) => {
          const m = byLabel.get(l)!;
          return [`  ${i}`, l, '->', m.detectableName, `(${m.detectableId})`];
        }),
        new Set([0]),
      ),
    );
  }
  if (unmatched.length > 0) {
    lines.push(`unmatched (${unmatched.length}):`);
    lines.push(...table(unmatched.map(([i, l]) => [`  ${i}`, l]), new Set([0])));
  }
  return lines;
}

export function runLabelsMatch(opts: LabelsMatchOptions, ctx: CommandContext): Promise<number> {
  const { output } = ctx;
  return run(output, {}, async () => {
    const labels = await readLabelMapping(opts.file);
    const detectables = await listDetectables(ctx.api);
    const matches = matchLabels(labels.values(), detectables);
    for (const line of matchReport(labels, matches)) output.out(line);
    const outFile = opts.out ?? DEFAULT_MATCHED_FILE;
    try {
      await writeFile(outFile, `${JSON.stringify(matchedMapping(labels, matches), null, 2)}\n`);
    } catch (err) {
      throw new InputError(`cannot write ${outFile}: ${(err as Error).message}`);
    }
    output.out(`wrote ${outFile}`);
    if (labels.size === 0) output.err(`warning: the label map ${opts.file} has no labels`);
    if (matches.unmatched.length > 0) {
      const n = matches.unmatched.length;
      output.err(
        `warning: ${n} label${n === 1 ? '' : 's'} match${n === 1 ? 'es' : ''} no detectable (${matches.unmatched.join(', ')}); ` +
          'their detections will count for no detectable. An admin can create detectables with those names.',
      );
    }
    return { kind: 'done' };
  });
}

// A detector's label map (`<index> <label>` per line) and the matching of labels to detectables by name. Pure.
// The CLI reads label maps and matches them before an upload; the pipeline matches the localizations' labels and
// computes metrics by the same name rule (labelKey).
import { LocalizationIssues, type Issue } from './issues.ts';

/** How a label and a detectable name are compared: trimmed, lower-cased. */
export function labelKey(name: string): string {
  return name.trim().toLowerCase();
}

const LINE = /^(\d+)\s+(\S.*)$/;

/**
 * Parses a label map: one `<index> <label>` per line (index a non-negative integer; label the rest of the line,
 * trimmed; any whitespace between them). Blank lines and lines starting with `#` are ignored; a leading BOM and
 * CRLF line ends are accepted. A malformed line or an index given twice is a LocalizationIssues whose issues
 * name every such line (`{ path: 'line 7', message }`). A file with no entries gives an empty map.
 */
export function parseLabelMapping(text: string): Map<number, string> {
  const map = new Map<number, string>();
  const firstLine = new Map<number, number>();
  const issues: Issue[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const lineNo = i + 1;
    const m = LINE.exec(line);
    const index = m ? Number(m[1]) : Number.NaN;
    if (!m || !Number.isSafeInteger(index)) {
      issues.push({ path: `line ${lineNo}`, message: `expected "<index> <label>", got ${JSON.stringify(abbreviate(line))}` });
      continue;
    }
    const earlier = firstLine.get(index);
    if (earlier !== undefined) {
      issues.push({ path: `line ${lineNo}`, message: `index ${index} appears twice (also on line ${earlier})` });
      continue;
    }
    firstLine.set(index, lineNo);
    map.set(index, m[2]!.trim());
  }
  if (issues.length > 0) throw new LocalizationIssues(issues);
  return map;
}

function abbreviate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export interface DetectableName {
  readonly id: string;
  readonly name: string;
}

export interface LabelMatch {
  readonly label: string;
  readonly detectableId: string;
  readonly detectableName: string;
}

export interface LabelMatches {
  /** One entry per distinct label that names a detectable, in the order the labels came. */
  readonly matched: LabelMatch[];
  /** The distinct labels that name no detectable, in the order they came. */
  readonly unmatched: string[];
}

/**
 * Matches labels to detectables by name (trimmed, case-insensitive). Labels are deduplicated as given (so
 * "Nike" and "nike" are two entries that match the same detectable). Should two detectables share a name
 * under this comparison (the catalog forbids it), the first one in `detectables` wins.
 */
export function matchLabels(labels: Iterable<string>, detectables: readonly DetectableName[]): LabelMatches {
  const byKey = new Map<string, DetectableName>();
  for (const d of detectables) {
    const key = labelKey(d.name);
    if (!byKey.has(key)) byKey.set(key, d);
  }
  const matched: LabelMatch[] = [];
  const unmatched: string[] = [];
  for (const label of new Set(labels)) {
    const d = byKey.get(labelKey(label));
    if (d) matched.push({ label, detectableId: d.id, detectableName: d.name });
    else unmatched.push(label);
  }
  return { matched, unmatched };
}

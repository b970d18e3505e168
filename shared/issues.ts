// What is wrong with a file a user hands in (a detector's localizations, a label map): every issue found, each
// with where it is. Thrown by the parsers that the CLI and the pipeline share; each turns it into its own terms.

/** At most this many issues are listed in an error's details; one more entry says how many were left out. */
export const MAX_LISTED_ISSUES = 50;

export interface Issue {
  readonly path: string;
  readonly message: string;
}

/**
 * A localizations file or label map that breaks the rules: every issue found, at most MAX_LISTED_ISSUES of them
 * listed (then `{ path: '', message: 'N more issues …' }`).
 */
export class LocalizationIssues extends Error {
  override readonly name = 'LocalizationsInvalid';
  readonly issues: readonly Issue[];
  constructor(issues: readonly Issue[]) {
    const more = issues.length - MAX_LISTED_ISSUES;
    const listed = more > 0 ? [...issues.slice(0, MAX_LISTED_ISSUES), { path: '', message: `${more} more issue${more === 1 ? '' : 's'} not listed` }] : [...issues];
    super(`${issues.length} issue(s): ${listed.slice(0, 5).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.issues = listed;
  }
}

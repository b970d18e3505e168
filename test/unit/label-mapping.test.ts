import { describe, expect, it } from 'vitest';
import { labelKey, matchLabels, parseLabelMapping } from '../../shared/label-map.ts';
import { LocalizationIssues } from '../../shared/issues.ts';

function issuesOf(text: string): { path: string; message: string }[] {
  try {
    parseLabelMapping(text);
  } catch (e) {
    expect(e).toBeInstanceOf(LocalizationIssues);
    return [...(e as LocalizationIssues).issues];
  }
  throw new Error('expected a validation error');
}

describe('parseLabelMapping', () => {
  it('reads "<index> <label>" lines; the label is the rest of the line, trimmed', () => {
    const text = '\uFEFF# detector v3 labels\r\n0 nike\r\n\r\n1\tCoca Cola  \r\n  # indented comment\n   2   Red  Bull \n10 a#b\n';
    expect(parseLabelMapping(text)).toEqual(new Map([[0, 'nike'], [1, 'Coca Cola'], [2, 'Red  Bull'], [10, 'a#b']]));
  });

  it('gives an empty map for a file with no entries', () => {
    expect(parseLabelMapping('')).toEqual(new Map());
    expect(parseLabelMapping('# nothing\n\n   \n')).toEqual(new Map());
  });

  it('accepts two indices with the same label', () => {
    expect(parseLabelMapping('0 nike\n1 nike')).toEqual(new Map([[0, 'nike'], [1, 'nike']]));
  });

  it('names the line of an index given twice', () => {
    expect(issuesOf('# header\n0 nike\n1 adidas\n\n0 puma\n')).toEqual([
      { path: 'line 5', message: 'index 0 appears twice (also on line 2)' },
    ]);
    expect(issuesOf('7 a\n007 b')).toEqual([{ path: 'line 2', message: 'index 7 appears twice (also on line 1)' }]);
  });

  it('names every malformed line', () => {
    const issues = issuesOf('0 nike\nadidas\n-1 puma\n2.5 fila\n3\nx 4 y\n99999999999999999999 big\n4 ok');
    expect(issues.map((i) => i.path)).toEqual(['line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
    expect(issues[0]!.message).toBe('expected "<index> <label>", got "adidas"');
  });
});

describe('matchLabels', () => {
  const detectables = [
    { id: 'd1', name: 'Nike' },
    { id: 'd2', name: ' Coca Cola ' },
    { id: 'd3', name: 'Adidas' },
  ];

  it('matches names case-insensitively after trimming; lists the rest as unmatched', () => {
    expect(matchLabels(['NIKE', 'coca cola', 'puma', 'nike ', 'Puma', 'puma'], detectables)).toEqual({
      matched: [
        { label: 'NIKE', detectableId: 'd1', detectableName: 'Nike' },
        { label: 'coca cola', detectableId: 'd2', detectableName: ' Coca Cola ' },
        { label: 'nike ', detectableId: 'd1', detectableName: 'Nike' },
      ],
      unmatched: ['puma', 'Puma'],
    });
  });

  it('takes any iterable, e.g. the values of a label map', () => {
    const map = parseLabelMapping('0 adidas\n1 fila\n2 Adidas');
    expect(matchLabels(map.values(), detectables)).toEqual({
      matched: [
        { label: 'adidas', detectableId: 'd3', detectableName: 'Adidas' },
        { label: 'Adidas', detectableId: 'd3', detectableName: 'Adidas' },
      ],
      unmatched: ['fila'],
    });
  });

  it('does not match inner whitespace differences or partial names', () => {
    expect(matchLabels(['CocaCola', 'Coca  Cola', 'Nik'], detectables)).toEqual({ matched: [], unmatched: ['CocaCola', 'Coca  Cola', 'Nik'] });
    expect(matchLabels([], detectables)).toEqual({ matched: [], unmatched: [] });
    expect(matchLabels(['nike'], [])).toEqual({ matched: [], unmatched: ['nike'] });
  });

  it('prefers the first of two detectables that share a name', () => {
    expect(matchLabels(['nike'], [{ id: 'a', name: 'NIKE' }, { id: 'b', name: 'nike' }]).matched[0]!.detectableId).toBe('a');
  });

  it('trims any whitespace at either end of a label and of a name before matching: spaces, tabs, line ends, no-break spaces', () => {
    const names = [{ id: 'd1', name: '\tRed Bull\u00a0' }, { id: 'd2', name: 'Puma' }];
    const labels = [' red bull', 'RED BULL\t', '\u00a0Red Bull\r\n', '\u3000puma\u2003', 'red\tbull', 'redbull'];
    expect(matchLabels(labels, names)).toEqual({
      matched: [
        { label: ' red bull', detectableId: 'd1', detectableName: '\tRed Bull\u00a0' },
        { label: 'RED BULL\t', detectableId: 'd1', detectableName: '\tRed Bull\u00a0' },
        { label: '\u00a0Red Bull\r\n', detectableId: 'd1', detectableName: '\tRed Bull\u00a0' },
        { label: '\u3000puma\u2003', detectableId: 'd2', detectableName: 'Puma' },
      ],
      unmatched: ['red\tbull', 'redbull'],
    });
    // A label map's labels are trimmed as they are read, whatever separates them from the index.
    expect(matchLabels(parseLabelMapping('0\t\u00a0Red Bull \t\r\n1  puma\u00a0').values(), names).matched.map((m) => m.detectableId)).toEqual(['d1', 'd2']);
  });

  it('labelKey trims and lower-cases', () => {
    expect(labelKey('  Red Bull\t')).toBe('red bull');
  });
});

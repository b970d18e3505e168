// CSV as RFC 4180 writes it: comma-separated fields, CRLF line ends, a field quoted (with its quotes doubled)
// only when it holds a comma, a quote or a line break. NULL is an empty field. Pure.
//
// Written here because the npm CSV writers (csv-stringify and the like) are stream transforms over row
// objects; a page is written line by line from arrays, and these few lines are all that takes.

export type CsvValue = string | number | boolean | bigint | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

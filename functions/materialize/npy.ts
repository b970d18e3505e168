// The header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0), read from the first bytes of an object
// without reading its data, so that a Lambda fetches only a byte range from S3. Pure.
//
// Format (numpy.lib.format): the magic `\x93NUMPY`, a major and a minor version byte, then the header length as a
// little-endian uint16 (1.0) or uint32 (2.0, 3.0), then the header: the repr of a Python dict
// `{'descr': '<i8', 'fortran_order': False, 'shape': (N, 3), }` padded with spaces and ended by a newline,
// latin-1 encoded (1.0, 2.0) or UTF-8 (3.0). The data follows the header, row-major (C) or column-major (Fortran).
//
// No npm package reads only an npy *header* from a byte prefix without eval or a full-file read (npyjs and
// friends parse whole ArrayBuffers and do not cover big-endian or 3.0), so it is written here; the header is
// parsed by a tiny tokenizer for Python literals, never by eval.
import { endianness } from 'node:os';

export type NpyErrorCode =
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'INCOMPLETE_HEADER'
  | 'MALFORMED_HEADER'
  | 'UNSUPPORTED_DTYPE'
  | 'UNSUPPORTED_SHAPE'
  | 'TRUNCATED'
  | 'SIZE_MISMATCH';

/** Why an `.npy` object cannot be read; `code` is stable, `message` is for people. */
export class NpyError extends Error {
  constructor(
    readonly code: NpyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NpyError';
  }
}

export type NpyDtypeName = 'int32' | 'int64' | 'uint32' | 'uint64' | 'float32' | 'float64' | 'bool';

export interface NpyDtype {
  name: NpyDtypeName;
  /** Bytes per element. */
  itemSize: 1 | 4 | 8;
  /** Byte order of the data. `<`, `|` and `=` (native) are little-endian: see NATIVE_LITTLE_ENDIAN. */
  littleEndian: boolean;
  /** The descr string as written in the header, e.g. `<u8`. */
  descr: string;
}

export interface NpyHeader {
  major: 1 | 2 | 3;
  minor: 0;
  dtype: NpyDtype;
  fortranOrder: boolean;
  /** `[rows]` or `[rows, columns]`. */
  shape: readonly [number] | readonly [number, number];
  rows: number;
  /** 1 for a 1-D array. */
  columns: number;
  /** Where the data starts: the preamble plus the declared header length. */
  dataOffset: number;
  /** rows × columns × itemSize. */
  dataBytes: number;
}

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** Bytes to fetch first: magic (6), version (2), and a version 1.0 header length (2). */
export const NPY_MIN_PREFIX = 10;

/**
 * `=` in a descr means the byte order of the machine that wrote the file. numpy writes `<` or `>` for multi-byte
 * types and `|` for single-byte ones, so `=` only appears in hand-made files; we read it as little-endian, the
 * order of every platform Lambda runs on (x86_64, arm64) and of this one. Checked at load.
 */
export const NATIVE_LITTLE_ENDIAN = true;
if (endianness() !== 'LE') throw new Error('functions/materialize/npy.ts assumes a little-endian platform');

const DTYPES: Record<string, { name: NpyDtypeName; itemSize: 1 | 4 | 8 }> = {
  i4: { name: 'int32', itemSize: 4 },
  i8: { name: 'int64', itemSize: 8 },
  u4: { name: 'uint32', itemSize: 4 },
  u8: { name: 'uint64', itemSize: 8 },
  f4: { name: 'float32', itemSize: 4 },
  f8: { name: 'float64', itemSize: 8 },
  b1: { name: 'bool', itemSize: 1 },
};

function versionOf(bytes: Uint8Array): { major: 1 | 2 | 3; lengthBytes: 2 | 4 } {
  if (bytes.length < 8) throw new NpyError('INCOMPLETE_HEADER', `need at least 8 bytes for the magic and version, got ${bytes.length}`);
  for (let i = 0; i < NPY_MAGIC.length; i++) {
    if (bytes[i] !== NPY_MAGIC[i]) throw new NpyError('BAD_MAGIC', 'not an .npy file: it does not start with \\x93NUMPY');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (minor !== 0 || (major !== 1 && major !== 2 && major !== 3)) {
    throw new NpyError('UNSUPPORTED_VERSION', `unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  return { major, lengthBytes: major === 1 ? 2 : 4 };
}

/**
 * How many leading bytes of the object are needed to read its header, given the bytes fetched so far: 10 when
 * fewer than 10 are known; 12 for a 2.0/3.0 file when only 10 are known; then the preamble plus the declared
 * header length. Fetch `[0, n)`, call again, and stop when the answer is no larger than what you have.
 * Throws BAD_MAGIC / UNSUPPORTED_VERSION as soon as the prefix shows them.
 */
export function headerBytesNeeded(prefix: Uint8Array): number {
  if (prefix.length < NPY_MIN_PREFIX) {
    if (prefix.length >= 8) versionOf(prefix);
    return NPY_MIN_PREFIX;
  }
  const { lengthBytes } = versionOf(prefix);
  const preamble = 8 + lengthBytes;
  if (prefix.length < preamble) return preamble;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLength = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  return preamble + headerLength;
}

// ---------------------------------------------------------------------------------------------------------------
// A tokenizer and parser for the Python literals numpy writes: dict, tuple, str, int, True/False.

type Literal = string | number | boolean | Literal[] | Map<string, Literal>;
type Token = { t: 'punct'; v: '{' | '}' | '(' | ')' | '[' | ']' | ',' | ':' } | { t: 'str'; v: string } | { t: 'int'; v: number } | { t: 'name'; v: string };

const malformed = (message: string) => new NpyError('MALFORMED_HEADER', `malformed .npy header: ${message}`);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if ('{}()[],:'.includes(c)) {
      tokens.push({ t: 'punct', v: c as '{' });
      i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw malformed('unterminated string');
        const d = text[i]!;
        if (d === c) break;
        if (d === '\\') {
          const e = text[i + 1];
          if (e === undefined) throw malformed('unterminated string');
          const escapes: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };
          const mapped = escapes[e];
          if (mapped === undefined) throw malformed(`unsupported escape \\${e} in a string`);
          value += mapped;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ t: 'str', v: value });
    } else if (c >= '0' && c <= '9') {
      let j = i;
      while (j < text.length && text[j]! >= '0' && text[j]! <= '9') j++;
      const digits = text.slice(i, j);
      // Python 2 numpy wrote longs as `3L`.
      if (text[j] === 'L') j++;
      const v = Number(digits);
      if (!Number.isSafeInteger(v)) throw malformed(`integer ${digits} is too large`);
      tokens.push({ t: 'int', v });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      tokens.push({ t: 'name', v: text.slice(i, j) });
      i = j;
    } else {
      throw malformed(`unexpected character ${JSON.stringify(c)} at ${i}`);
    }
  }
  return tokens;
}

function parseLiteral(tokens: Token[]): Literal {
  let pos = 0;
  const peek = () => tokens[pos];
  const isPunct = (v: string) => {
    const t = peek();
    return t !== undefined && t.t === 'punct' && t.v === v;
  };
  const expect = (v: string) => {
    if (!isPunct(v)) throw malformed(`expected '${v}'`);
    pos++;
  };
  const value = (): Literal => {
    const t = tokens[pos++];
    if (t === undefined) throw malformed('unexpected end');
    if (t.t === 'str' || t.t === 'int') return t.v;
    if (t.t === 'name') {
      if (t.v === 'True') return true;
      if (t.v === 'False') return false;
      throw malformed(`unexpected name ${t.v}`);
    }
    if (t.v === '{') {
      const map = new Map<string, Literal>();
      while (!isPunct('}')) {
        const key = tokens[pos++];
        if (key === undefined || key.t !== 'str') throw malformed('dict keys must be strings');
        if (map.has(key.v)) throw malformed(`key '${key.v}' appears twice`);
        expect(':');
        map.set(key.v, value());
        if (!isPunct('}')) expect(',');
      }
      pos++;
      return map;
    }
    if (t.v === '(' || t.v === '[') {
      const close = t.v === '(' ? ')' : ']';
      const items: Literal[] = [];
      let commas = 0;
      while (!isPunct(close)) {
        items.push(value());
        if (!isPunct(close)) {
          expect(',');
          commas++;
        }
      }
      pos++;
      // `(5)` is not a tuple in Python, it is 5.
      if (t.v === '(' && items.length === 1 && commas === 0) return items[0]!;
      return items;
    }
    throw malformed(`unexpected '${t.v}'`);
  };
  const result = value();
  if (pos !== tokens.length) throw malformed('text after the dict');
  return result;
}

function parseDtype(descr: Literal): NpyDtype {
  if (typeof descr !== 'string') {
    throw new NpyError('UNSUPPORTED_DTYPE', 'structured dtypes are not supported: descr must be a string such as "<i8"');
  }
  const m = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const base = m ? DTYPES[m[2]!] : undefined;
  if (!m || !base) {
    throw new NpyError(
      'UNSUPPORTED_DTYPE',
      `unsupported dtype '${descr}' (supported: int32, int64, uint32, uint64, float32, float64, bool as <i4 <i8 <u4 <u8 <f4 <f8 |b1, little- or big-endian)`,
    );
  }
  const order = m[1]!;
  const littleEndian = order === '>' ? false : order === '=' ? NATIVE_LITTLE_ENDIAN : true;
  return { ...base, littleEndian, descr };
}

function parseShape(shape: Literal): [number] | [number, number] {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) throw malformed("'shape' must be a tuple of integers");
  const dims = shape as number[];
  if (dims.length === 1) return [dims[0]!];
  if (dims.length === 2) return [dims[0]!, dims[1]!];
  throw new NpyError('UNSUPPORTED_SHAPE', `unsupported shape (${dims.join(', ')}): only (N,) and (N, k) arrays are supported`);
}

/**
 * Parses the header from the first bytes of an `.npy` object (at least headerBytesNeeded(bytes) of them; more are
 * ignored). Does not look at the data: see checkObjectSize, or parseNpyHeader for both.
 */
export function readNpyHeader(bytes: Uint8Array): NpyHeader {
  const { major, lengthBytes } = versionOf(bytes);
  const needed = headerBytesNeeded(bytes);
  if (bytes.length < needed) throw new NpyError('INCOMPLETE_HEADER', `need ${needed} bytes to read the header, got ${bytes.length}`);
  const start = 8 + lengthBytes;
  const raw = bytes.subarray(start, needed);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw malformed('a version 3.0 header must be UTF-8');
    }
  } else {
    text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  }
  const dict = parseLiteral(tokenize(text));
  if (!(dict instanceof Map)) throw malformed('the header is not a dict');
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw malformed(`expected exactly the keys descr, fortran_order, shape; got ${keys || 'none'}`);
  const fortranOrder = dict.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw malformed("'fortran_order' must be True or False");
  const shape = parseShape(dict.get('shape')!);
  const dtype = parseDtype(dict.get('descr')!);
  const rows = shape[0];
  const columns = shape[1] ?? 1;
  const dataBytes = rows * columns * dtype.itemSize;
  if (!Number.isSafeInteger(dataBytes)) throw malformed(`shape (${shape.join(', ')}) is too large`);
  return { major, minor: 0, dtype, fortranOrder, shape, rows, columns, dataOffset: needed, dataBytes };
}

/** Throws TRUNCATED when the object is shorter than the data its header declares, SIZE_MISMATCH when longer. */
export function checkObjectSize(header: NpyHeader, objectSize: number): void {
  const expected = header.dataOffset + header.dataBytes;
  if (objectSize < expected) {
    throw new NpyError('TRUNCATED', `truncated .npy file: the header declares ${expected} bytes in all, the object has ${objectSize}`);
  }
  if (objectSize > expected) {
    throw new NpyError('SIZE_MISMATCH', `.npy file has ${objectSize - expected} bytes after the data its header declares (${expected} bytes in all)`);
  }
}

/** readNpyHeader, then checkObjectSize against the object's size (e.g. S3 ContentLength). */
export function parseNpyHeader(bytes: Uint8Array, objectSize: number): NpyHeader {
  const header = readNpyHeader(bytes);
  checkObjectSize(header, objectSize);
  return header;
}

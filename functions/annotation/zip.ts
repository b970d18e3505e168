// Zip files of this context: uploaded zips (images content, YOLO prediction files) are read through one reader that
// refuses what could hurt (names that leave the zip, entries that inflate past a cap), and a dataset version's zip
// is written as a stream with fixed entry times and order, so the same entries give the same bytes. yauzl reads and
// yazl writes; both take zip64, so neither 4 GiB nor 65,535 entries is a limit.
import { Readable, Transform } from 'node:stream';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';

/** A zip this context does not read: damaged, an entry whose name leaves the zip, an entry past the size cap. */
export class ZipInvalid extends TaskError {
  constructor(message: string) {
    super('ZipInvalid', message);
  }
}

export interface ZipLimits {
  /** An entry inflates to at most this many bytes, as declared and as read. */
  readonly maxEntryBytes: number;
  /** All entries read together inflate to at most this many bytes (readZip). */
  readonly maxTotalBytes?: number;
}

export const defaultZipLimits = (): ZipLimits => ({ maxEntryBytes: config.zipEntryMaxBytes() });

export interface ZipEntry {
  readonly name: string;
  /** Uncompressed bytes, as the zip declares them. */
  readonly size: number;
}

/** The files of an open zip, each read when asked for. */
export interface ZipReader {
  /** The files in central directory order; folders are not files and are left out. */
  readonly entries: readonly ZipEntry[];
  read(name: string): Promise<Buffer>;
  close(): void;
}

const invalid = (what: string, err: unknown) => new ZipInvalid(`${what}: ${(err as Error)?.message ?? String(err)}`);

/** Opens a zip from a file path or from bytes. Throws ZipInvalid when it is not a zip, or one with a refused entry. */
export async function openZip(source: string | Buffer, limits: ZipLimits = defaultZipLimits()): Promise<ZipReader> {
  // backslashes are taken as folder separators (zips made on Windows), then the name is checked as any other
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false };
  let zip: yauzl.ZipFile;
  try {
    zip = typeof source === 'string' ? await yauzl.openPromise(source, options) : await yauzl.fromBufferPromise(source, options);
  } catch (err) {
    throw invalid('not a zip', err);
  }
  const files = new Map<string, yauzl.Entry>();
  try {
    // yauzl refuses a name that is absolute or has a `..` segment (its validateFileName) as it lists it
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        throw new ZipInvalid(`${entry.fileName}: ${entry.uncompressedSize} bytes uncompressed, more than the ${limits.maxEntryBytes} an entry may hold`);
      }
      if (files.has(entry.fileName)) throw new ZipInvalid(`${entry.fileName}: in the zip twice`);
      files.set(entry.fileName, entry);
    }
  } catch (err) {
    zip.close();
    throw err instanceof ZipInvalid ? err : invalid('a refused entry', err);
  }
  return {
    entries: [...files.values()].map((e) => ({ name: e.fileName, size: e.uncompressedSize })),
    read: async (name) => {
      const entry = files.get(name);
      if (!entry) throw new ZipInvalid(`${name}: no such file in the zip`);
      const chunks: Buffer[] = [];
      let bytes = 0;
      try {
        // yauzl also holds the inflated bytes to the declared size (validateEntrySizes); the count here is the cap's own
        for await (const chunk of await zip.openReadStreamPromise(entry)) {
          bytes += (chunk as Buffer).length;
          if (bytes > limits.maxEntryBytes) throw new ZipInvalid(`${name}: inflates past the ${limits.maxEntryBytes} bytes an entry may hold`);
          chunks.push(chunk as Buffer);
        }
      } catch (err) {
        throw err instanceof ZipInvalid ? err : invalid(name, err);
      }
      return Buffer.concat(chunks);
    },
    close: () => zip.close(),
  };
}

/** Every file of a zip with its bytes, in central directory order. Throws ZipInvalid as openZip does. */
export async function readZip(source: string | Buffer, limits: ZipLimits = defaultZipLimits()): Promise<{ name: string; data: Buffer }[]> {
  const zip = await openZip(source, limits);
  try {
    const declared = zip.entries.reduce((n, e) => n + e.size, 0);
    if (limits.maxTotalBytes !== undefined && declared > limits.maxTotalBytes) {
      throw new ZipInvalid(`${declared} bytes uncompressed, more than the ${limits.maxTotalBytes} a zip may hold`);
    }
    const out: { name: string; data: Buffer }[] = [];
    for (const e of zip.entries) out.push({ name: e.name, data: await zip.read(e.name) });
    return out;
  } finally {
    zip.close();
  }
}

/** One file of a zip being written: its name and its bytes, asked for only when the zip reaches it. */
export interface ZipSource {
  readonly name: string;
  open(): Promise<Readable | Buffer>;
}

/** Every entry's time: the earliest a zip can say (1980-01-01), so the bytes never depend on when they were made. */
const ENTRY_TIME = new Date(1980, 0, 1);
/**
 * Entries are stored, not deflated: a dataset is mostly JPEG, which does not shrink, and stored bytes do not depend
 * on the zlib that made them. No extended timestamp, a fixed mode: nothing of the machine ends up in the bytes.
 */
const ENTRY_OPTIONS = { mtime: ENTRY_TIME, forceDosTimestamp: true, compress: false, mode: 0o100644 };

/**
 * The zip of `sources`, in their order, as a stream; each source is opened only when the one before it is written,
 * so no more than one entry is held at a time. Zip64 records are written when the zip needs them.
 */
export function zipStream(sources: Iterable<ZipSource>): Readable {
  const zip = new yazl.ZipFile();
  const out = zip.outputStream as Readable;
  zip.on('error', (err: Error) => out.destroy(err));
  for (const source of sources) {
    zip.addReadStreamLazy(source.name, ENTRY_OPTIONS, (callback) => {
      source.open().then(
        (body) => callback(null, Buffer.isBuffer(body) ? Readable.from([body]) : body),
        (err: Error) => callback(err, undefined as unknown as Readable),
      );
    });
  }
  zip.end();
  return out;
}

/** The bytes of a zip of these files (small zips: tests, a few text files). */
export async function zipBytes(files: readonly { name: string; data: Buffer }[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of zipStream(files.map((f) => ({ name: f.name, open: async () => f.data })))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Passes bytes through and counts them. */
export function byteCounter(): Transform & { bytes: number } {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  }) as Transform & { bytes: number };
  counter.bytes = 0;
  return counter;
}

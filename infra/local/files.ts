// What the local cloud writes under its folder holds secrets (the PostgreSQL superuser's password, the admin
// API key) and the data of every store: only the user who runs it may read it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/** Writes a file only its owner can read; a file that already exists gets that mode too. */
export function writePrivateFileSync(file: string, data: string | Uint8Array): void {
  writeFileSync(file, data, { mode: PRIVATE_FILE });
  chmodSync(file, PRIVATE_FILE);
}

/** A folder only its owner can enter, for a store that writes its own files with the default mode. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dir, PRIVATE_DIR);
}

/** Flushes a file, or a folder's entries (a file created or renamed in it), to disk. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

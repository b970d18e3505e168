// What the local cloud writes under its folder holds secrets (the PostgreSQL superuser's password, the admin
// API key) and the data of every store: only the user who runs it may read it.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

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

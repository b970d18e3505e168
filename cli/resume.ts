// Which multipart upload a file was being sent in, so that running the same command again continues it. One small
// JSON file in the user's state folder, keyed by the API, the video and the file (path, size, modification time):
// a changed file starts a new upload.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface OpenUpload {
  readonly uploadId: string;
  readonly savedAt: string;
}

/** $FRAMEWISE_STATE_DIR, else $XDG_STATE_HOME/framewise, else ~/.local/state/framewise. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FRAMEWISE_STATE_DIR) return resolve(env.FRAMEWISE_STATE_DIR);
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'framewise');
}

/** The key of one file's upload to one video through one API. Pure. */
export const uploadKey = (f: { apiUrl: string; videoId: string; path: string; size: number; mtimeMs: number }): string =>
  createHash('sha256').update(JSON.stringify([f.apiUrl, f.videoId, resolve(f.path), f.size, Math.trunc(f.mtimeMs)])).digest('hex').slice(0, 32);

export class OpenUploads {
  private readonly file: string;

  constructor(private readonly dir: string = stateDir()) {
    this.file = join(dir, 'uploads.json');
  }

  private async read(): Promise<Record<string, OpenUpload>> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, OpenUpload>;
    } catch {
      return {}; // none yet, or unreadable: uploads then start afresh
    }
  }

  private async write(all: Record<string, OpenUpload>): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
  }

  async get(key: string): Promise<OpenUpload | undefined> {
    return (await this.read())[key];
  }

  async set(key: string, uploadId: string): Promise<void> {
    await this.write({ ...(await this.read()), [key]: { uploadId, savedAt: new Date().toISOString() } });
  }

  async delete(key: string): Promise<void> {
    const all = await this.read();
    if (!(key in all)) return;
    delete all[key];
    await this.write(all);
  }
}

// Where the CLI finds the API and its key: --api-url / --api-key, else FRAMEWISE_API_URL / FRAMEWISE_API_KEY,
// else (local development) .local/endpoints.json (`api`) and .local/credentials.json (`adminApiKey`) in the
// current directory. Each value is resolved on its own, so a flag may override just one of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Source = 'flag' | 'env' | 'file';

export interface CliConfig {
  readonly apiUrl: string;
  readonly apiKey: string;
  readonly sources: { readonly apiUrl: Source; readonly apiKey: Source };
}

export class ConfigError extends Error {}

export interface ConfigInput {
  readonly flags: { readonly apiUrl?: string; readonly apiKey?: string };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Reads a file's text, or returns undefined when it does not exist (injected so tests need no files). */
  readonly readText?: (path: string) => string | undefined;
}

export const ENDPOINTS_FILE = join('.local', 'endpoints.json');
export const CREDENTIALS_FILE = join('.local', 'credentials.json');

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** One string field of a JSON file in `cwd`; undefined when the file or the field is missing. */
function fileField(input: ConfigInput, file: string, field: string): string | undefined {
  const path = join(input.cwd, file);
  const text = (input.readText ?? readIfExists)(path);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`${path} is not valid JSON`);
  }
  const value = (parsed as Record<string, unknown> | null)?.[field];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const given = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);

function pick(flag: string | undefined, env: string | undefined, file: () => string | undefined): [string, Source] | undefined {
  if (given(flag)) return [given(flag)!, 'flag'];
  if (given(env)) return [given(env)!, 'env'];
  const fromFile = file();
  return fromFile === undefined ? undefined : [fromFile, 'file'];
}

/** Resolves the API URL and key; throws ConfigError naming every way to give what is missing. */
export function resolveConfig(input: ConfigInput): CliConfig {
  const url = pick(input.flags.apiUrl, input.env.FRAMEWISE_API_URL, () => fileField(input, ENDPOINTS_FILE, 'api'));
  const key = pick(input.flags.apiKey, input.env.FRAMEWISE_API_KEY, () => fileField(input, CREDENTIALS_FILE, 'adminApiKey'));
  const missing: string[] = [];
  if (!url) missing.push(`the API URL (--api-url, FRAMEWISE_API_URL, or "api" in ${ENDPOINTS_FILE} written by \`npm start\`)`);
  if (!key) missing.push(`the API key (--api-key, FRAMEWISE_API_KEY, or "adminApiKey" in ${CREDENTIALS_FILE} written by \`npm start\`)`);
  if (!url || !key) throw new ConfigError(`missing ${missing.join(' and ')}`);
  let parsed: URL;
  try {
    parsed = new URL(url[0]);
  } catch {
    throw new ConfigError(`the API URL ${JSON.stringify(url[0])} (from ${url[1]}) is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`the API URL ${JSON.stringify(url[0])} (from ${url[1]}) must be http(s)`);
  }
  return { apiUrl: url[0].replace(/\/+$/, ''), apiKey: key[0], sources: { apiUrl: url[1], apiKey: key[1] } };
}

// @ts-check
// The API as the console calls it: the signed-in key on every request, JSON both ways, and one error type. A 401
// signs out and returns to sign-in: a key that stopped working is never retried.

const KEY = 'framewise.apiKey';

/** The key of this tab's session (sessionStorage: gone with the tab, never in a URL). */
export const session = {
  key: () => sessionStorage.getItem(KEY),
  /** @param {string} key */
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {unknown} [details]
   */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** @type {(() => void) | undefined} */
let onUnauthorized;
/** @param {() => void} handler what to do when the key is refused (sign out, show sign-in) */
export const whenUnauthorized = (handler) => {
  onUnauthorized = handler;
};

/**
 * @param {string} method
 * @param {string} path under the API's origin, e.g. `/v1/jobs?state=failed`
 * @param {{ body?: unknown, key?: string, signal?: AbortSignal }} [options] `key` only to try one before signing in
 * @returns {Promise<any>}
 */
export async function call(method, path, options = {}) {
  const key = options.key ?? session.key();
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, signal: options.signal,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  /** @type {any} */
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return json;
  const error = json?.error;
  const failure = new ApiError(res.status, error?.code ?? `Http${res.status}`, error?.message ?? (json?.message || res.statusText || 'request failed'), error?.details);
  if (res.status === 401 && !options.key && onUnauthorized) onUnauthorized();
  throw failure;
}

export const get = (/** @type {string} */ path, /** @type {{ signal?: AbortSignal }} */ options = {}) => call('GET', path, options);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body = {}) => call('POST', path, { body });

/**
 * An image the API answers (through its redirect to storage), fetched with the session's key and kept as a blob: URL,
 * since an <img> cannot send the key; the caller revokes it when the page goes.
 * @param {string} path under the API's origin
 * @param {string} what named in the error, e.g. `the thumbnail`
 * @returns {Promise<string>}
 */
export async function imageBlobUrl(path, what) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${session.key()}` } });
  if (!res.ok) throw new Error(`${what} could not be read (${res.status})`);
  return URL.createObjectURL(await res.blob());
}

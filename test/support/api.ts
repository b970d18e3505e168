// A small client for the HTTP API as a user would call it.
import { inject } from 'vitest';

export interface ApiResponse<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  status: number;
  body: T;
  headers: Headers;
}

/** A caller of the HTTP API at `base` with `key` (none: a public call), answering status, parsed body and headers. */
export function apiAt(base: string, key?: string) {
  return async function call<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(key && { authorization: `Bearer ${key}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: res.headers };
  };
}

/** A caller of the shared test cloud's API. */
export function apiClient(key: string | undefined = inject('adminApiKey')) {
  return apiAt(inject('endpoints').api, key);
}

/** A caller of an API at `base` (a cloud of the test's own) that answers the parsed body and throws on any non-2xx. */
export function strictApiClient(base: string, key: string) {
  const call = apiAt(base, key);
  return async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await call<T>(method, path, body);
    if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
}

export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

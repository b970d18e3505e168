// The HTTP API as the command line sees it: JSON in and out, errors as ApiError with the API's code.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message;
      throw new ApiError(0, 'Unreachable', `cannot reach the API at ${this.baseUrl}: ${(err as Error).message}${why ? ` (${why})` : ''}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      // not the API (a proxy's or another server's page): report what answered
      throw new ApiError(res.status, res.ok ? 'NotJson' : `HTTP${res.status}`, `${this.baseUrl}${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code: string; message: string; details?: unknown } } | undefined)?.error;
      throw new ApiError(res.status, e?.code ?? `HTTP${res.status}`, e?.message ?? text, e?.details);
    }
    return parsed as T;
  }

  get = <T>(path: string) => this.request<T>('GET', path);
  post = <T>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
}

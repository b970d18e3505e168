/** An error a client can act on: it becomes `{ error: { code, message, details } }` with its HTTP status. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * A task failed in a way its workflow should know by name: the code becomes the Step Functions error (which its
 * Retry and Catch match) and the failed job's error code.
 */
export class TaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'BadRequest', message, details);
export const validationFailed = (details: unknown) =>
  new AppError(400, 'ValidationFailed', 'The request does not match the expected schema', details);
export const unauthorized = (message = 'A valid API key is required (Authorization: Bearer <key>)') =>
  new AppError(401, 'Unauthorized', message);
export const forbidden = (message = 'This API key may not perform this action') => new AppError(403, 'Forbidden', message);
export const notFound = (what: string, id?: string) =>
  new AppError(404, 'NotFound', id ? `${what} ${id} does not exist` : `${what} does not exist`);
export const conflict = (message: string, details?: unknown) => new AppError(409, 'Conflict', message, details);
export const invalidCursor = (message = 'The cursor is not one this API returned for this query') => new AppError(400, 'InvalidCursor', message);

// Errors shared by every layer (services, auth, route wrappers), with no HTTP dependency.

/** Every error code the API answers with, and its HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  not_configured: 503,
  busy: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * The one error type services, auth and handlers throw; the route wrapper maps it to a
 * response. `message` is for the person (it reaches the client); `logMessage`, when given, is
 * what the server log gets instead, so internals never need to be in the user's text.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly headers?: Record<string, string>;
  readonly logMessage?: string;

  constructor(code: ErrorCode, message: string, extra: { field?: string; headers?: Record<string, string>; logMessage?: string } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.field = extra.field;
    this.headers = extra.headers;
    this.logMessage = extra.logMessage;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

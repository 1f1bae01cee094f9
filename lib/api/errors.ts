import { ZodError } from 'zod';
import { AppError, ERROR_STATUS, type ErrorCode } from '@/lib/errors';

/** Body of every error response. */
export interface ErrorBody {
  error: string;
  code: ErrorCode;
  field?: string;
}

interface PgLikeError {
  code: string;
  message: string;
  constraint_name?: string;
}

function isPgError(err: unknown): err is PgLikeError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'PostgresError' &&
    typeof (err as { code?: unknown }).code === 'string'
  );
}

// Readable messages for constraints a merchant can run into; anything else gets a generic one.
const CONSTRAINT_MESSAGES: Record<string, { message: string; field?: string }> = {
  users_email_key: { message: 'An account with that email already exists', field: 'email' },
  coupons_user_id_code_key: { message: 'A coupon with that code already exists', field: 'code' },
};

// Our SQL functions raise readable errors with SQLSTATE 'HH' + HTTP status (e.g. HH404); only
// their text reaches a client. Any other database message stays in the server log.
const SQL_STATUS: Record<string, ErrorCode> = {
  HH400: 'bad_request',
  HH403: 'forbidden',
  HH404: 'not_found',
  HH409: 'conflict',
  HH422: 'unprocessable',
  HH429: 'rate_limited',
};

/** Describe the first zod issue as `field: message`. */
export function describeZodError(err: ZodError): { message: string; field?: string } {
  const issue = err.issues[0];
  if (!issue) return { message: 'Invalid input' };
  const field = issue.path.map(String).join('.');
  return { message: field ? `${field}: ${issue.message}` : issue.message, field: field || undefined };
}

/** Map anything thrown inside a handler to a status and body. Unknown errors leak nothing. */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof AppError) {
    if (err.logMessage) console.warn(`[api] ${err.code}: ${err.logMessage}`);
    return {
      status: err.status,
      body: { error: err.message, code: err.code, ...(err.field ? { field: err.field } : {}) },
      headers: err.headers,
    };
  }
  if (err instanceof ZodError) {
    const { message, field } = describeZodError(err);
    return { status: 400, body: { error: message, code: 'bad_request', ...(field ? { field } : {}) } };
  }
  if (isPgError(err)) {
    const sqlCode = SQL_STATUS[err.code];
    if (sqlCode) return { status: ERROR_STATUS[sqlCode], body: { error: err.message, code: sqlCode } };
    const known = err.constraint_name ? CONSTRAINT_MESSAGES[err.constraint_name] : undefined;
    const field = known?.field ? { field: known.field } : {};
    switch (err.code) {
      case '23505':
        return { status: 409, body: { error: known?.message ?? 'A record with that value already exists', code: 'conflict', ...field } };
      case '23503':
        return { status: 400, body: { error: known?.message ?? 'A referenced record does not exist', code: 'bad_request', ...field } };
      case '23514':
      case '23502':
        return { status: 400, body: { error: known?.message ?? 'A value is missing or not allowed', code: 'bad_request', ...field } };
      case '22P02':
      case '22003':
      case '22007':
      case '22008':
        return { status: 400, body: { error: 'A value has the wrong format or is out of range', code: 'bad_request' } };
      case '40001':
      case '40P01':
      case '55P03':
        return { status: 503, body: { error: 'The server is busy, please try again', code: 'busy' } };
    }
  }
  console.error('[api] unexpected error', err);
  return { status: 500, body: { error: 'Something went wrong. Please try again.', code: 'internal' } };
}

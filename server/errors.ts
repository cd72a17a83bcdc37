// Typed errors, mapped to HTTP in one place (app.ts). Messages are fixed strings or describe the request's
// shape only: they never echo headers, addresses or body bytes back into a response or a log line.
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../schema/errors.js';

export type { ErrorCode };

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds the client should wait before trying again: sent as Retry-After (429 and 503 answers). */
    readonly retryAfter?: number,
  ) {
    // Bounded, so a message built from a request's shape always fits ErrorBody (and a log line).
    super(message.length > 500 ? `${message.slice(0, 499)}…` : message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Fastify's own error codes that are the client's fault, mapped to ours. */
export function fromFastifyError(err: { code?: string; statusCode?: number; validation?: unknown; message: string }): AppError | undefined {
  if (err.validation) return new AppError('TIPLINE_ERR_BAD_REQUEST', `invalid request: ${err.message}`);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('TIPLINE_ERR_BODY_TOO_LARGE', 'request body too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new AppError('TIPLINE_ERR_BAD_REQUEST', 'malformed request body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError('TIPLINE_ERR_BAD_REQUEST', 'malformed request');
  }
  if (err.statusCode === 413) return new AppError('TIPLINE_ERR_BODY_TOO_LARGE', 'request body too large');
  if (err.statusCode === 415) return new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
  if (err.statusCode === 400 || (err instanceof SyntaxError)) return new AppError('TIPLINE_ERR_BAD_REQUEST', 'malformed request');
  return undefined;
}

// The database going away (a restart, a failover, an outage) is the server's trouble, not the client's, and it
// passes: a 503 with Retry-After tells sources to send the same request again, which the upload protocol makes
// safe. A 500 would read as a bug and stop the page's and the CLI's retries from knowing they may go on.
const DB_SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
// SQLSTATE: class 08 (connection exception), 57P01-57P03 (shutting down, crashed, starting up), 53300 (too many connections).
const DB_UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
// node-postgres and its pool say these without a code.
const DB_UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Connection terminated unexpectedly)/;

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (DB_SOCKET_ERRORS.has(e.code) || DB_UNAVAILABLE_STATES.test(e.code))) return true;
  if (typeof e.message === 'string' && DB_UNAVAILABLE_MESSAGES.test(e.message)) return true;
  // Node reports a failed connection to a host with several addresses as an AggregateError of each attempt.
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return e.cause !== undefined && isDatabaseUnavailable(e.cause, depth + 1);
}

/** A database that cannot be reached now, as the 503 its request gets (app.ts adds Retry-After). */
export function fromDatabaseError(err: unknown): AppError | undefined {
  return isDatabaseUnavailable(err) ? new AppError('TIPLINE_ERR_BUSY', 'the tip line cannot reach its database just now; send the same request again in a moment') : undefined;
}

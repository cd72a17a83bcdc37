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

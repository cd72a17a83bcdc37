// Typed errors, mapped to HTTP in one place (app.ts). Messages are fixed strings or describe the request's
// shape only: they never echo headers, addresses or body bytes back into a response or a log line.
export type ErrorCode =
  | 'TIPLINE_ERR_BAD_REQUEST'
  | 'TIPLINE_ERR_NOT_FOUND'
  | 'TIPLINE_ERR_BODY_TOO_LARGE'
  | 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'TIPLINE_ERR_POW_INVALID'
  | 'TIPLINE_ERR_POW_REUSED'
  | 'TIPLINE_ERR_ENVELOPE_TOO_LARGE'
  | 'TIPLINE_ERR_FRAMING'
  | 'TIPLINE_ERR_UPLOAD_UNKNOWN'
  | 'TIPLINE_ERR_CHUNK_OUT_OF_RANGE'
  | 'TIPLINE_ERR_CHUNK_SIZE'
  | 'TIPLINE_ERR_UPLOAD_INCOMPLETE'
  | 'TIPLINE_ERR_NO_DIRECTORY'
  | 'TIPLINE_ERR_UNAUTHENTICATED'
  | 'TIPLINE_ERR_FORBIDDEN'
  | 'TIPLINE_ERR_REPLAYED'
  | 'TIPLINE_ERR_STALE_REQUEST'
  | 'TIPLINE_ERR_TIP_UNKNOWN'
  | 'TIPLINE_ERR_BUSY'
  | 'TIPLINE_ERR_INTERNAL';

const STATUS: Record<ErrorCode, number> = {
  TIPLINE_ERR_BAD_REQUEST: 400,
  TIPLINE_ERR_NOT_FOUND: 404,
  TIPLINE_ERR_BODY_TOO_LARGE: 413,
  TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  TIPLINE_ERR_POW_INVALID: 403,
  TIPLINE_ERR_POW_REUSED: 403,
  TIPLINE_ERR_ENVELOPE_TOO_LARGE: 413,
  TIPLINE_ERR_FRAMING: 400,
  TIPLINE_ERR_UPLOAD_UNKNOWN: 404,
  TIPLINE_ERR_CHUNK_OUT_OF_RANGE: 400,
  TIPLINE_ERR_CHUNK_SIZE: 400,
  TIPLINE_ERR_UPLOAD_INCOMPLETE: 409,
  TIPLINE_ERR_NO_DIRECTORY: 503,
  TIPLINE_ERR_UNAUTHENTICATED: 401,
  TIPLINE_ERR_FORBIDDEN: 403,
  TIPLINE_ERR_REPLAYED: 401,
  TIPLINE_ERR_STALE_REQUEST: 401,
  TIPLINE_ERR_TIP_UNKNOWN: 404,
  TIPLINE_ERR_BUSY: 503,
  TIPLINE_ERR_INTERNAL: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
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

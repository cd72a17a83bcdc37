// What can go wrong between a client and the tip line, the same for the command line and the page. Clients act
// on these types and on the server's error code, never on a message's text (messages are for people).

/** The connection failed, dropped or timed out: the request may or may not have reached the server. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

/** The server answered with an error (status and code from the wire's error body). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    /** A TIPLINE_ERR_… code, or 'unknown' when the answer carried none. */
    readonly code: string,
    message: string,
    /** How long the server asked the client to wait before trying again (its Retry-After), if it did. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The server's answer does not match the wire schema, or contradicts what was asked: nothing is done with it. */
export class MalformedAnswer extends Error {
  override name = 'MalformedAnswer';
}

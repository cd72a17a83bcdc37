// One retry policy for the command line and the page: which failures are worth another try (by error type and
// server code, never by message), how long to wait between tries, and when a proof-of-work must be redone.
import type { ErrorCode } from '../../schema/errors.js';
import { ApiError, NetworkError } from './errors.js';

export interface RetryOptions {
  /** Keep retrying a failed step for this long before giving up. */
  retryForMs: number;
  onRetry?(what: string, err: unknown, delayMs: number): void;
  sleep?(ms: number): Promise<void>;
  /** [0, 1); replaceable in tests. */
  random?(): number;
}

/** Lost connections and a server that is busy, restarting or failing for now: the same request may work later. */
export function retryable(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 429));
}

/** Codes that say the solution in hand can no longer open an upload, while a fresh challenge can. */
const FRESH_POW: readonly ErrorCode[] = ['TIPLINE_ERR_POW_EXPIRED', 'TIPLINE_ERR_POW_REUSED', 'TIPLINE_ERR_POW_TOO_EASY', 'TIPLINE_ERR_POW_TOO_SMALL', 'TIPLINE_ERR_POW_FOREIGN'];

export function needsFreshPow(err: unknown): boolean {
  return err instanceof ApiError && (FRESH_POW as readonly string[]).includes(err.code);
}

/** The last chunk arrived before some earlier one was stored (they travel in parallel): finish once all are. */
export function finishedTooEarly(err: unknown): boolean {
  return err instanceof ApiError && err.code === ('TIPLINE_ERR_UPLOAD_INCOMPLETE' satisfies ErrorCode);
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

/** The wait before try `attempt + 1`: doubling from 250 ms to 5 s, each ±25 % at random, so that many
 * sources cut off by the same outage do not all come back in the same instant. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(FIRST_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return Math.round(base * (0.75 + random() * 0.5));
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(what: string, o: RetryOptions, fn: (attempt: number) => Promise<T>, canRetry: (err: unknown) => boolean = retryable): Promise<T> {
  const deadline = Date.now() + o.retryForMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      // A server that says how long to wait (Retry-After on a 429/503) is believed: coming back sooner only
      // adds to the load it is shedding. Past the deadline, the source is told now rather than kept waiting.
      const asked = err instanceof ApiError ? err.retryAfterMs : undefined;
      const wait = asked !== undefined ? asked + backoff(0, o.random) : backoff(attempt, o.random);
      if (!canRetry(err) || Date.now() + wait > deadline) throw err;
      o.onRetry?.(what, err, wait);
      await (o.sleep ?? defaultSleep)(wait);
    }
  }
}

// How busy the server is, as the flood controls need it: extra proof-of-work bits under load, and how long a
// refused client should wait. One gauge per process (several instances each price by their own load).
export interface LoadGauge {
  /** Leading zero bits to add to every new challenge now (0 when idle; rises under load, falls back after). */
  powExtraBits(): number;
  /** Seconds a refused client should wait before trying again (the Retry-After header of a 429/503). */
  retryAfterSeconds(): number;
  /** Stops any timers the gauge runs. */
  close(): void;
}

/** A gauge that never reports load (until server/routes/uploads.ts's flood controls measure it). */
export function idleGauge(): LoadGauge {
  return { powExtraBits: () => 0, retryAfterSeconds: () => 5, close: () => {} };
}

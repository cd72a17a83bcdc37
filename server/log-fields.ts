// The fields of the line the server logs for each request (server/app.ts writes exactly these), compared at
// start with the signed policy's `logged` (server/policy-enforce.ts): the policy must say what the log holds.
// Never an address, a header, a path's parameters or a time of day (invariant 2).
export const LOGGED_FIELDS: readonly string[] = ['level', 'method', 'route', 'status', 'duration_ms'];

/** A request line with exactly LOGGED_FIELDS (pino adds `level`; no message, so no `msg`). */
export function requestLogLine(method: string, route: string, status: number, durationMs: number): { method: string; route: string; status: number; duration_ms: number } {
  return { method, route, status, duration_ms: Math.round(durationMs) };
}

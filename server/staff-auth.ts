// Staff requests are signed with a desk or auditor Ed25519 key listed in the signed directory: no passwords,
// no sessions. Timestamp and single-use nonce stop a captured request from being replayed.
//
// A plugin, registered at the root before any route: a route declares the roles it admits in its options
// (`config: { staff: ['desk'] }`) and gets the check as its first preHandler. A route under the staff prefix
// that declares none is refused at registration, so a new staff route cannot be public by omission.
import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { STAFF_CLOCK_SKEW_SECONDS, staffRequestFresh, verifyStaffRequest, type StaffRejectReason } from '../crypto/staff-request.js';
import { findSigner, type Recipient, type Role } from '../crypto/directory.js';
import type { ErrorCode } from '../schema/errors.js';
import { AppError, isDatabaseUnavailable } from './errors.js';
import { loadDirectory } from './directory.js';
import { spendNonce } from './store/nonces.js';
import { STAFF_PREFIX, type AppContext } from './context.js';

export { STAFF_CLOCK_SKEW_SECONDS };

const STAFF_ERRORS: Record<StaffRejectReason, ErrorCode> = {
  unsigned: 'TIPLINE_ERR_UNAUTHENTICATED',
  malformed: 'TIPLINE_ERR_UNAUTHENTICATED',
  unknown_key: 'TIPLINE_ERR_UNAUTHENTICATED',
  bad_signature: 'TIPLINE_ERR_UNAUTHENTICATED',
};

// The signature format is crypto/staff-request.ts (PROTOCOL.md §Staff requests); this adds the directory, the
// clock and the single-use nonce.
export async function authenticateStaff(ctx: AppContext, req: FastifyRequest, roles: readonly Role[]): Promise<Recipient> {
  const { db, config } = ctx;
  const now = config.now();
  let published;
  try {
    published = await loadDirectory(db, now, config.rootFingerprint);
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err; // a 503 to retry (server/errors.ts), not a call to republish
    throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'the published directory is expired or invalid; publish a new one');
  }
  if (!published) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'no directory has been published');
  // Staff routes take no body yet; one that arrives anyway would not be covered by the signature.
  if (req.body !== undefined && req.body !== null) throw new AppError('TIPLINE_ERR_BAD_REQUEST', 'staff requests carry no body');
  const verdict = verifyStaffRequest(
    req.headers,
    { host: (req.headers.host ?? '').toLowerCase(), method: req.method, pathAndQuery: req.url, body: new Uint8Array(0) },
    (key) => findSigner(published.directory, key, now),
  );
  if (!verdict.ok) throw new AppError(STAFF_ERRORS[verdict.reason], verdict.message);
  const signer = verdict.signer;
  if (!roles.includes(signer.role)) throw new AppError('TIPLINE_ERR_FORBIDDEN', `${signer.role} keys may not do this`);
  if (!staffRequestFresh(verdict.timestamp, now)) {
    throw new AppError('TIPLINE_ERR_STALE_REQUEST', `request timestamp is more than ${STAFF_CLOCK_SKEW_SECONDS} s from the server's clock`);
  }
  // Kept until the timestamp could no longer pass the check above, then purged.
  if (!(await spendNonce(db, verdict.nonce, new Date((verdict.timestamp + 2 * STAFF_CLOCK_SKEW_SECONDS) * 1000)))) {
    throw new AppError('TIPLINE_ERR_REPLAYED', 'request was already used (replay)');
  }
  return signer;
}

export class StaffRouteWithoutRoleError extends Error {
  constructor(method: string, url: string) {
    super(`${method} ${url} is under ${STAFF_PREFIX} but declares no staff role (config: { staff: [...] }); refusing to register it`);
    this.name = 'StaffRouteWithoutRoleError';
  }
}

const staffAuthPlugin: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.decorateRequest('staff', null);
  app.addHook('onRoute', (route) => {
    const roles = route.config?.staff;
    const underPrefix = route.url === STAFF_PREFIX || route.url.startsWith(`${STAFF_PREFIX}/`);
    if (underPrefix && (!roles || roles.length === 0)) throw new StaffRouteWithoutRoleError(String(route.method), route.url);
    if (!roles || roles.length === 0) return;
    const admitted = [...roles];
    const check: preHandlerAsyncHookHandler = async (req) => {
      req.staff = await authenticateStaff(ctx, req, admitted);
    };
    // First, so that no other preHandler of the route runs for an unsigned request.
    route.preHandler = [check, ...(route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler])];
  });
};

/** Not encapsulated (fastify-plugin): its onRoute check must see every route registered after it. */
export const staffAuth = fp(staffAuthPlugin, { name: 'tipline-staff-auth', fastify: '5.x' });

// Staff requests are signed with a desk or auditor Ed25519 key listed in the signed directory: no passwords,
// no sessions. Timestamp and single-use nonce stop a captured request from being replayed; the host signed must
// be this tip line's staff address (configured, never the request's Host header), so a request signed for
// another tip line that lists the same key is refused here.
//
// A plugin, registered at the root before any route: a route declares the roles it admits in its options
// (`config: { staff: ['desk'] }`) and gets the check as its first preValidation hook (the body is parsed by then,
// and nothing about the request is validated for whoever did not sign it). A route under the staff prefix
// that declares none is refused at registration, so a new staff route cannot be public by omission.
import fp from 'fastify-plugin';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
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

/** The hosts (as a URL's `host`) staff requests must be signed for: this tip line's staff address(es). */
export type StaffHosts = () => readonly string[];

/**
 * A staff address as a client writes it in its URL ("abc….onion", "127.0.0.1:8081", "[::1]:8081") in the form
 * signed (PROTOCOL.md §Staff requests: lowercase, punycode, port omitted when 80). Throws on anything that is
 * not a bare host[:port].
 */
export function canonicalStaffHost(value: string): string {
  const v = value.trim();
  let url: URL;
  try {
    url = new URL(`http://${v}`);
  } catch {
    throw new RangeError(`"${v.slice(0, 80)}" is not a host name or host:port`);
  }
  if (v === '' || url.username || url.password || url.pathname !== '/' || url.search || url.hash || /[/?#@]/.test(v)) {
    throw new RangeError(`"${v.slice(0, 80)}" is not a host name or host:port (no scheme, path or user)`);
  }
  // A trailing dot names the same host; clients sign the host without it (client/cli/http.ts strips it too).
  return url.host.replace(/\.(?=:|$)/, '');
}

/**
 * For development: the hosts a client on this machine uses to reach a listener at `address` (its IP and port,
 * and `localhost` for a loopback one). None for a wildcard address (0.0.0.0, ::): no client signs for those,
 * so `tipline serve` asks for --staff-host instead.
 */
export function listenerStaffHosts(address: AddressInfo | string | null): string[] {
  if (address === null || typeof address === 'string') return [];
  const { address: ip, port } = address;
  if (ip === '0.0.0.0' || ip === '::' || ip === '') return [];
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const withPort = (h: string) => (port === 80 ? h : `${h}:${port}`);
  const loopback = ip.startsWith('127.') || ip === '::1';
  return loopback ? [withPort(host), withPort('localhost')] : [withPort(host)];
}

// The bytes of a staff request's body exactly as received, kept by the staff listener's parsers (see
// keepSignedBodies) for the signature check: the signature covers those bytes, never a re-serialisation of what
// they parsed to (threat: two bodies that parse alike, one of them signed, the other sent).
const receivedBodies = new WeakMap<FastifyRequest, Uint8Array>();

function signedBody(req: FastifyRequest): Uint8Array {
  const kept = receivedBodies.get(req);
  if (kept) return kept;
  if (req.body === undefined || req.body === null) return new Uint8Array(0);
  if (req.body instanceof Uint8Array) return req.body; // application/octet-stream: parsed as the bytes themselves
  // A body whose bytes were not kept could not be checked against the signature: refused, never trusted.
  throw new AppError('TIPLINE_ERR_BAD_REQUEST', 'staff requests carry a JSON or application/octet-stream body, or none');
}

/**
 * On the staff listener: JSON bodies are parsed from the bytes received, and those bytes are kept for the
 * signature check. The parse is Fastify's own (prototype-poisoning checks included); a body that is not UTF-8 is
 * refused rather than decoded with replacement characters.
 */
export function keepSignedBodies(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, raw, done) => {
    const bytes = raw as Buffer;
    receivedBodies.set(req, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      done(new AppError('TIPLINE_ERR_BAD_REQUEST', 'malformed request body (not UTF-8)'), undefined);
      return;
    }
    json(req, text, done);
  });
}

// The staff address a verified request was signed for (one of the configured hosts): a route that checks a
// statement bound to the address (a deletion statement) compares with this.
const signedHosts = new WeakMap<FastifyRequest, string>();
export function staffSignedHost(req: FastifyRequest): string | undefined {
  return signedHosts.get(req);
}

// The signature format is crypto/staff-request.ts (PROTOCOL.md §Staff requests); this adds the directory, the
// configured host, the clock and the single-use nonce.
export async function authenticateStaff(ctx: AppContext, req: FastifyRequest, roles: readonly Role[], staffHosts: StaffHosts): Promise<Recipient> {
  const { db, config } = ctx;
  const now = config.now();
  const hosts = staffHosts();
  if (hosts.length === 0) throw new AppError('TIPLINE_ERR_UNAUTHENTICATED', 'this server has no staff address configured (tipline serve --staff-host HOST)');
  let published;
  try {
    published = await loadDirectory(db, now, config.rootFingerprint);
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err; // a 503 to retry (server/errors.ts), not a call to republish
    throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'the published directory is expired or invalid; publish a new one');
  }
  if (!published) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'no directory has been published');
  const body = signedBody(req);
  const lookup = (key: string) => findSigner(published.directory, key, now);
  // The content type is the header as received (verifyStaffRequest's default), so it is covered too.
  const check = (host: string) => verifyStaffRequest(req.headers, { host, method: req.method, pathAndQuery: req.url, body }, lookup);
  // Threat: a request captured on (or sent by a desk to) another tip line that lists the same key, replayed
  // here. The signed host is checked against this server's own staff address(es), never the Host header.
  let signedFor = hosts[0]!;
  let verdict = check(signedFor);
  for (const host of hosts.slice(1)) {
    if (verdict.ok || verdict.reason !== 'bad_signature') break;
    signedFor = host;
    verdict = check(host);
  }
  if (!verdict.ok) {
    // Only to say why: a signature that holds for the Host the client sent (and not for ours) was made for
    // another tip line. Echoed only then, so it matched the signed host's character rules.
    const claimed = (req.headers.host ?? '').toLowerCase();
    if (verdict.reason === 'bad_signature' && claimed !== '' && !hosts.includes(claimed) && check(claimed).ok) {
      throw new AppError('TIPLINE_ERR_UNAUTHENTICATED', `request was signed for another tip line (${claimed}): a staff request is accepted only at the staff address it was signed for`);
    }
    throw new AppError(STAFF_ERRORS[verdict.reason], verdict.message);
  }
  const signer = verdict.signer;
  signedHosts.set(req, signedFor);
  if (!roles.includes(signer.role)) {
    // Says what the key can do instead: an auditor reaching for a tip learns where its part is.
    // Merged words of h-notes-server and h-cli-inbox; the notes part first (clients keep the first 300 characters).
    if (signer.role === 'auditor') throw new AppError('TIPLINE_ERR_FORBIDDEN', `an auditor reads the audit chain (GET ${STAFF_PREFIX}/audit), the tips' metadata and the desk notes' (GET ${STAFF_PREFIX}/notes), never the content of a tip or a note; an auditor key can list the tips' metadata (tipline list; GET ${STAFF_PREFIX}/tips: ids, sizes, days), read the audit chain (GET ${STAFF_PREFIX}/audit) and run tipline audit; it cannot read, answer or delete tips`);
    throw new AppError('TIPLINE_ERR_FORBIDDEN', `${signer.role} keys may not do this`);
  }
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

const staffAuthPlugin: FastifyPluginAsync<{ ctx: AppContext; hosts: StaffHosts }> = async (app, { ctx, hosts }) => {
  app.decorateRequest('staff', null);
  app.addHook('onRoute', (route) => {
    const roles = route.config?.staff;
    const underPrefix = route.url === STAFF_PREFIX || route.url.startsWith(`${STAFF_PREFIX}/`);
    if (underPrefix && (!roles || roles.length === 0)) throw new StaffRouteWithoutRoleError(String(route.method), route.url);
    if (!roles || roles.length === 0) return;
    const admitted = [...roles];
    const check: preValidationAsyncHookHandler = async (req) => {
      req.staff = await authenticateStaff(ctx, req, admitted, hosts);
    };
    // Before validation and every other hook of the route after parsing: an unsigned request learns nothing of
    // what the route would have said about its body or parameters.
    route.preValidation = [check, ...(route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation])];
  });
};

/** Not encapsulated (fastify-plugin): its onRoute check must see every route registered after it. */
export const staffAuth = fp(staffAuthPlugin, { name: 'tipline-staff-auth', fastify: '5.x' });

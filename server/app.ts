// Builds the Fastify applications; server/serve.ts only listens. Tests build them and call them on loopback ports.
//
// Two surfaces, two listeners (two onion services in deployment, deploy/torrc): `public` serves the sources'
// page, the signed directory, proof-of-work and uploads; `staff` serves the newsroom's API under
// /api/v1/staff and nothing else. Threat: the staff API reachable through the public onion, where client
// authorisation on the staff onion is no wall at all. Each application refuses, at startup, a route that
// belongs to the other, so neither can answer for the other by accident (an unknown path is a plain 404).
import Fastify, { LogController, type FastifyError, type FastifyReply } from 'fastify';
import helmet from '@fastify/helmet';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { initCrypto } from '../crypto/node.js';
import { ErrorBody } from '../schema/errors.js';
import { AppError, fromDatabaseError, fromFastifyError } from './errors.js';
import { resolveConfig, type ServerConfig } from './config.js';
import { loadPowSecret } from './store/pow.js';
import { keepSignedBodies, listenerStaffHosts, staffAuth, type StaffHosts } from './staff-auth.js';
import { processGauge } from './load.js';
import { requestLogLine } from './log-fields.js';
import { STAFF_PREFIX, type App, type AppContext } from './context.js';
import { publicRoutes } from './routes/public.js';
import { uploadRoutes } from './routes/uploads.js';
import { staffRoutes } from './routes/staff.js';
import { pageRoutes } from './routes/page.js';
import { replyRoutes } from './routes/replies.js';
import { staffReplyRoutes } from './routes/staff-replies.js';
import { staffNoteRoutes } from './routes/staff-notes.js';
import { documentRoutes } from './routes/documents.js';
import { auditHeadRoutes } from './routes/audit-head.js';
import { PAGE_CSP } from '../schema/page.js';

/** `a x y;b z` → { a: [x, y], b: [z] }, which helmet serialises back to the same string. */
function cspDirectives(csp: string): Record<string, string[]> {
  return Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
}

export type Surface = 'public' | 'staff';

export interface StaffSurfaceOptions {
  /** The hosts staff requests must be signed for (this tip line's staff onion, as in the desk's URL), or a
   * function read at each request. Default: the staff listener's own address (and `localhost` on loopback),
   * for development. */
  hosts?: readonly string[] | StaffHosts;
}

/** A route of the other surface, refused at registration. */
export class RouteOnWrongSurfaceError extends Error {
  constructor(method: string, url: string, surface: Surface) {
    super(`${method} ${url} does not belong on the ${surface} listener (staff routes under ${STAFF_PREFIX} only on the staff one, every other route only on the public one)`);
    this.name = 'RouteOnWrongSurfaceError';
  }
}

export async function buildServer(options: ServerConfig, surface: Surface, staff: StaffSurfaceOptions = {}): Promise<App> {
  await initCrypto();
  const config = resolveConfig(options);
  const app = Fastify({
    // Invariant 2: no timestamps, host names or pids in log lines; request lines are written by the hook below
    // (Fastify's own request log would include the client address).
    logger: { level: config.logLevel, timestamp: false, base: null, stream: config.logStream },
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    requestIdHeader: false,
    bodyLimit: 16 * 1024,
    return503OnClosing: true,
    // A client that trickles bytes must not hold a connection forever (a cheap way to exhaust the server).
    // Generous for Tor: a 1 MiB chunk at 10 KB/s takes under two minutes.
    requestTimeout: 180_000,
    connectionTimeout: 180_000,
    // Errors Fastify raises before routing (bad URL encoding…) get the same JSON shape as ours.
    frameworkErrors: (err, _req, reply) => {
      const known = fromFastifyError(err) ?? new AppError('TIPLINE_ERR_BAD_REQUEST', 'malformed request');
      (reply as FastifyReply).code(known.status).header('cache-control', 'no-store').send(known.body());
    },
    // Malformed HTTP never reaches Fastify's handlers: answer with a fixed JSON 400 and close.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return;
      const status = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      const body = JSON.stringify({ error: { code: 'TIPLINE_ERR_BAD_REQUEST', message: 'malformed HTTP request' } });
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    },
  }).withTypeProvider<ZodTypeProvider>();
  // An Expect other than 100-continue would get Node's own bare 417 (no JSON body): handle the request as usual.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));

  // zod at the edge: input is parsed by the route's schema (handlers get it typed), output serialised through
  // it (undeclared fields are dropped, so nothing slips into a response by accident; errors included).
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // The API takes JSON and raw chunks only.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  await app.register(helmet, {
    // schema/page.ts's PAGE_CSP, the one string the client manifest also records: the header served and the
    // one signed cannot disagree (threat: a laxer policy slipped in here while the manifest still says strict).
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(PAGE_CSP) },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    strictTransportSecurity: false, // served over an onion service: TLS is not in play and HSTS would be ignored.
  });

  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=(), clipboard-read=(), publickey-credentials-get=(), browsing-topics=()');
  });
  app.addHook('onResponse', async (req, reply) => {
    if (req.routeOptions.config.quiet && reply.statusCode < 400) return;
    // Exactly the fields the signed policy lists as logged (server/log-fields.ts, checked at start).
    app.log.info(requestLogLine(req.method, req.routeOptions.url ?? '(unmatched)', reply.statusCode, reply.elapsedTime));
  });

  app.setNotFoundHandler(async (_req, reply) => {
    reply.code(404).send({ error: { code: 'TIPLINE_ERR_NOT_FOUND', message: 'not found' } });
  });
  app.setErrorHandler(async (err: FastifyError, _req, reply) => {
    const known = err instanceof AppError ? err : (fromFastifyError(err) ?? fromDatabaseError(err));
    if (known?.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(known.retryAfter))));
    else if (known?.status === 503 || known?.status === 429) reply.header('retry-after', String(ctx.load.retryAfterSeconds()));
    if (known) return reply.code(known.status).send(known.body());
    app.log.error({ err: { name: err.name, code: err.code, message: String(err.message).slice(0, 200) } }, 'internal error');
    return reply.code(500).send({ error: { code: 'TIPLINE_ERR_INTERNAL', message: 'internal error' } });
  });

  // A route that could answer an error the serialiser does not check is refused at startup, not found in review.
  app.addHook('onRoute', (route) => {
    const response = (route.schema?.response ?? {}) as Record<string, unknown>;
    if (response['4xx'] !== ErrorBody || response['5xx'] !== ErrorBody) {
      throw new Error(`${String(route.method)} ${route.url} must declare ErrorBody for its 4xx and 5xx answers (schema.response: { ...errorResponses })`);
    }
  });

  app.addHook('onRoute', (route) => {
    const staffRoute = route.url === STAFF_PREFIX || route.url.startsWith(`${STAFF_PREFIX}/`);
    if (staffRoute !== (surface === 'staff')) throw new RouteOnWrongSurfaceError(String(route.method), route.url, surface);
  });

  const ctx: AppContext = { db: config.db, config, powSecret: await loadPowSecret(config.db), load: processGauge({ thresholds: config.load, now: config.now, dataDir: config.dataDir, onPressure: (pressure, r) => app.log.warn({ pressure, ...r }, 'load') }) };
  app.addHook('onClose', async () => ctx.load.close());
  const given = staff.hosts;
  const fixed = Array.isArray(given) ? [...(given as readonly string[])] : undefined;
  const staffHosts: StaffHosts =
    surface !== 'staff' ? () => [] : fixed ? () => fixed : typeof given === 'function' ? given : () => listenerStaffHosts(app.server.address());
  // Before any route: its onRoute check must see them all.
  await app.register(staffAuth, { ctx, hosts: staffHosts });
  if (surface === 'public') {
    await app.register(publicRoutes, { ctx });
    await app.register(uploadRoutes, { ctx });
    await app.register(pageRoutes, { ctx });
    await app.register(replyRoutes, { ctx });
    await app.register(documentRoutes, { ctx });
    await app.register(auditHeadRoutes, { ctx });
  } else {
    // Signed bodies (a desk's reply) are checked against the bytes received.
    keepSignedBodies(app);
    await app.register(staffRoutes, { ctx, prefix: STAFF_PREFIX });
    await app.register(staffReplyRoutes, { ctx, prefix: STAFF_PREFIX });
    await app.register(staffNoteRoutes, { ctx, prefix: STAFF_PREFIX });
  }
  return app;
}

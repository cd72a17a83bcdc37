// What every route plugin is given, and the route options this server adds to Fastify's. Routes import this
// module, never app.ts: app.ts registers the routes, so importing it back would make a cycle.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { ErrorBody } from '../schema/errors.js';
import type { Recipient, Role } from '../crypto/directory.js';
import type { ResolvedConfig } from './config.js';
import type { LoadGauge } from './load.js';

export interface AppContext {
  db: Kysely<Database>;
  config: ResolvedConfig;
  powSecret: Uint8Array;
  /** How busy this process is: prices new proofs-of-work and says how long refused clients wait. */
  load: LoadGauge;
}

/** The application as its routes see it: input typed by each route's zod schemas. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A route plugin: registered by app.ts with the context as its options. */
export type RoutePlugin = FastifyPluginAsyncZod<{ ctx: AppContext }>;

/** Every route that may answer with an error declares its shape: the serialiser then refuses anything else. */
export const errorResponses = { '4xx': ErrorBody, '5xx': ErrorBody } as const;

/** Routes under this prefix must declare the staff roles they admit (server/staff-auth.ts refuses them otherwise). */
export const STAFF_PREFIX = '/api/v1/staff';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The staff roles a route admits: set, the request must be signed by a directory key of one of them. */
    staff?: readonly Role[];
    /** Successful answers are not logged (page and assets: see server/routes/page.ts). */
    quiet?: boolean;
  }
  interface FastifyRequest {
    /** The directory entry that signed this request, on staff routes (set by the staff-auth preHandler). */
    staff: Recipient | null;
  }
}

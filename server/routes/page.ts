// The source's page, built by client/web/build.ts into dist/web and held in memory. Every language is its own
// path (/, /es/, /de/): Tor Browser sends the same Accept-Language for everyone, so it cannot choose.
// Every file served here is listed in the build's client manifest (client/web/manifest.ts), with the same
// Content-Type (schema/page.ts), so `tipline verify-site` can check each against the signed copy.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ASSET_TYPES, FINGERPRINT_SLOT, PAGE_TYPE, webFileOf } from '../../schema/page.js';
import { documentFingerprint, type SignedDocument } from '../../crypto/signed.js';
import { displayFingerprint } from '../../crypto/keys.js';
import { loadDirectoryBody } from '../directory.js';
import { errorResponses, type RoutePlugin } from '../context.js';

const BUILT_WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const PAGES = ['/', '/es/', '/de/'];

// Page and asset requests are not logged: the page's language, stamped with a time by journald, could be
// lined up with the upload that follows it. Failures still are.
const QUIET = { quiet: true };
// Bytes as built (HTML, script, style): sent as they are, no serialiser involved.
const PAGE = { config: QUIET, schema: { response: { 200: z.unknown().describe('the built page or asset'), ...errorResponses } } };

function wantsGzip(req: FastifyRequest): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
}

function send(req: FastifyRequest, reply: FastifyReply, type: string, raw: Buffer, gz: Buffer): FastifyReply {
  reply.type(type).header('vary', 'accept-encoding');
  if (wantsGzip(req)) return reply.header('content-encoding', 'gzip').send(gz);
  return reply.send(raw);
}

export const pageRoutes: RoutePlugin = async (app, { ctx }) => {
  const web = ctx.config.webDir ?? BUILT_WEB;
  if (!existsSync(join(web, 'index.html'))) {
    app.log.warn({ msg: 'the web page is not built (npm run build): serving the API only' });
    return;
  }
  const pages = Object.fromEntries(PAGES.map((path) => [path, readFileSync(join(web, webFileOf(path)), 'utf8')]));
  const assets = Object.fromEntries(Object.keys(ASSET_TYPES).map((name) => [name, { raw: readFileSync(join(web, 'assets', name)), gz: readFileSync(join(web, 'assets', `${name}.gz`)) }]));

  async function currentFingerprint(): Promise<string> {
    // No directory yet: an empty slot, so the page says the tip line is not set up (pinned or not).
    const body = await loadDirectoryBody(ctx.db);
    if (!body) return '';
    if (ctx.config.rootFingerprint) return displayFingerprint(ctx.config.rootFingerprint);
    try {
      return documentFingerprint(JSON.parse(body) as SignedDocument);
    } catch {
      return '';
    }
  }

  for (const [path, html] of Object.entries(pages)) {
    app.get(path, PAGE, async (req, reply) => {
      const page = Buffer.from(html.replaceAll(FINGERPRINT_SLOT, await currentFingerprint()));
      return send(req, reply, PAGE_TYPE, page, gzipSync(page));
    });
    // A relative Location: the same origin whatever name the server is reached by (its onion address).
    if (path !== '/') app.get(path.slice(0, -1), { config: QUIET, schema: { response: { 308: z.unknown().describe('to the path with its slash'), ...errorResponses } } }, async (_req, reply) => reply.redirect(path, 308));
  }
  // Browsers ask for it unprompted; an empty answer keeps the log free of pointless 404s.
  app.get('/favicon.ico', { config: QUIET, schema: { response: { 204: z.unknown().describe('nothing'), ...errorResponses } } }, async (_req, reply) => reply.code(204).send());
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    const a = assets[name]!;
    app.get(`/assets/${name}`, PAGE, async (req, reply) => send(req, reply, type, a.raw, a.gz));
  }
};

// The source's page, built by client/web/build.ts into dist/web and held in memory. Every language is its own
// path (/, /es/, /de/): Tor Browser sends the same Accept-Language for everyone, so it cannot choose.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FINGERPRINT_SLOT } from '../../schema/page.js';
import { documentFingerprint, type SignedDocument } from '../../crypto/signed.js';
import { displayFingerprint } from '../../crypto/keys.js';
import { loadDirectoryBody } from '../directory.js';
import { errorResponses, type RoutePlugin } from '../context.js';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const PAGES: Record<string, string> = { '/': 'index.html', '/es/': 'es/index.html', '/de/': 'de/index.html' };
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'worker.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

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
  if (!existsSync(`${WEB}index.html`)) {
    app.log.warn({ msg: 'the web page is not built (npm run build): serving the API only' });
    return;
  }
  const pages = Object.fromEntries(Object.entries(PAGES).map(([path, file]) => [path, readFileSync(`${WEB}${file}`, 'utf8')]));
  const assets = Object.fromEntries(Object.keys(ASSETS).map((name) => [name, { raw: readFileSync(`${WEB}assets/${name}`), gz: readFileSync(`${WEB}assets/${name}.gz`) }]));

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
      return send(req, reply, 'text/html; charset=utf-8', page, gzipSync(page));
    });
    if (path !== '/') app.get(path.slice(0, -1), { config: QUIET, schema: { response: { 308: z.unknown().describe('to the path with its slash'), ...errorResponses } } }, async (_req, reply) => reply.redirect(path, 308));
  }
  // Browsers ask for it unprompted; an empty answer keeps the log free of pointless 404s.
  app.get('/favicon.ico', { config: QUIET, schema: { response: { 204: z.unknown().describe('nothing'), ...errorResponses } } }, async (_req, reply) => reply.code(204).send());
  for (const [name, type] of Object.entries(ASSETS)) {
    const a = assets[name]!;
    app.get(`/assets/${name}`, PAGE, async (req, reply) => send(req, reply, type, a.raw, a.gz));
  }
};

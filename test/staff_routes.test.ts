// Staff authentication is a plugin, not a line in each handler: a route under the staff prefix that declares no
// role cannot be registered (the server does not start), and one that declares a role runs its handler only
// for a request signed by a key of that role. Every route declares ErrorBody for its errors, or does not start.
import t from 'tap';
import Fastify, { type FastifyInstance } from 'fastify';
import { dialects } from './helpers/databases.js';
import { makeNewsroom, staffHeaders } from './helpers/fixtures.js';
import { buildServer } from '../server/app.js';
import { staffAuth } from '../server/staff-auth.js';
import { errorResponses, STAFF_PREFIX, type AppContext } from '../server/context.js';
import { resolveConfig } from '../server/config.js';
import { publishDirectory } from '../server/directory.js';
import { ErrorBody } from '../schema/errors.js';
import { idleGauge } from '../server/load.js';

const [pglite] = await dialects();
const store = await pglite!.open();
t.teardown(() => store.drop());
const newsroom = makeNewsroom();
await publishDirectory(store.db, newsroom.doc, new Date());
const ctx: AppContext = { db: store.db, config: resolveConfig({ db: store.db, logLevel: 'silent' }), powSecret: new Uint8Array(32), load: idleGauge() };
const ok = async () => ({ ok: true });

t.test('with the staff plugin alone, a staff route without a role refuses to register', async (t) => {
  const cases: [string, (app: FastifyInstance) => void][] = [
    ['no config at all', (app) => app.register(async (s) => void s.get('/secret', ok), { prefix: STAFF_PREFIX })],
    ['an empty role list', (app) => app.register(async (s) => void s.get('/secret', { config: { staff: [] } }, ok), { prefix: STAFF_PREFIX })],
    ['a full staff path, registered outside the prefix', (app) => app.register(async (s) => void s.delete(`${STAFF_PREFIX}/tips/:id/purge`, ok))],
    ['the bare prefix', (app) => app.register(async (s) => void s.get(STAFF_PREFIX, ok))],
  ];
  for (const [what, add] of cases) {
    const app = Fastify();
    await app.register(staffAuth, { ctx, hosts: () => ['tipline.test'] });
    add(app);
    await t.rejects((async () => void (await app.ready()))(), { name: 'StaffRouteWithoutRoleError' }, `${what}: the application does not start`);
    await app.close().catch(() => {});
  }
  const fine = Fastify();
  await fine.register(staffAuth, { ctx, hosts: () => ['tipline.test'] });
  fine.register(async (s) => void s.get('/secret', { config: { staff: ['desk'] } }, ok), { prefix: STAFF_PREFIX });
  fine.get('/api/v1/public', ok);
  await t.resolves((async () => void (await fine.ready()))(), 'with a declared role (and outside the prefix without one) it starts');
  await fine.close();
});

t.test('the real application refuses the same, and a route without error schemas', async (t) => {
  const unprotected = await buildServer({ db: store.db, logLevel: 'silent' }, 'staff');
  unprotected.register(async (s) => void s.get('/extra', { schema: { response: errorResponses } }, ok), { prefix: STAFF_PREFIX });
  await t.rejects((async () => void (await unprotected.ready()))(), { name: 'StaffRouteWithoutRoleError' });
  await unprotected.close().catch(() => {});
  const undeclared = await buildServer({ db: store.db, logLevel: 'silent' }, 'public');
  undeclared.register(async (s) => void s.get('/api/v1/extra', ok));
  await t.rejects((async () => void (await undeclared.ready()))(), { message: /must declare ErrorBody for its 4xx and 5xx answers/ });
  await undeclared.close().catch(() => {});
});

t.test('a declared role is checked before the handler runs', async (t) => {
  const app = await buildServer({ db: store.db, logLevel: 'silent' }, 'staff', { hosts: ['tipline.test'] });
  let ran = 0;
  let signer = '';
  app.register(
    async (s) =>
      void s.get('/whoami', { config: { staff: ['desk'] }, schema: { response: errorResponses } }, async (req) => {
        ran++;
        signer = req.staff?.name ?? '';
        return { ok: true };
      }),
    { prefix: STAFF_PREFIX },
  );
  await app.ready();
  t.teardown(() => app.close());
  const path = `${STAFF_PREFIX}/whoami`;
  const host = 'tipline.test';
  const get = (headers: Record<string, string>) => app.inject({ method: 'GET', url: path, headers: { host, ...headers } });

  const unsigned = await get({});
  t.equal(unsigned.statusCode, 401);
  t.equal(ErrorBody.parse(unsigned.json()).error.code, 'TIPLINE_ERR_UNAUTHENTICATED');
  const auditor = await get(staffHeaders(newsroom.auditor, 'GET', path, { host }));
  t.equal(auditor.statusCode, 403);
  t.equal(ErrorBody.parse(auditor.json()).error.code, 'TIPLINE_ERR_FORBIDDEN');
  const head = await app.inject({ method: 'HEAD', url: path, headers: { host } });
  t.equal(head.statusCode, 401, 'the HEAD route Fastify adds is guarded too');
  t.equal(ran, 0, 'the handler did not run for any of them');
  const desk = await get(staffHeaders(newsroom.desk, 'GET', path, { host }));
  t.equal(desk.statusCode, 200);
  t.equal(ran, 1);
  t.equal(signer, newsroom.desk.name, 'the handler is told who signed');
});

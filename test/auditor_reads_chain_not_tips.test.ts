// An auditor's key (keys add-desk --auditor) reads the audit chain with its signed head and the tips' metadata
// (id, size, days) through the signed staff API, and is refused — told what an auditor can do instead — when it
// asks for a tip's content or deletes one, over HTTP and with `tipline delete`.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { staffHeaders } from './helpers/fixtures.js';
import { signedDelete } from './helpers/deletion.js';
import { loadStaffKey } from '../client/cli/keyfiles.js';
import { publishDirectory } from '../server/directory.js';
import { verifySignedHead } from '../crypto/audit-head.js';
import { verifyChain } from '../crypto/audit-chain.js';

process.env.TIPLINE_PASSPHRASE = 'correct horse battery staple';

t.test('an auditor reads the chain and tip metadata, never a tip', async (t) => {
  const { keys, fingerprint, store, server } = await cliNewsroomServer(t);
  const add = await runCli(['keys', 'add-desk', '--dir', keys, '--name', 'lawyer', '--auditor']);
  t.equal(add.code, 0, add.stderr);
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const auditorFile = join(keys, 'lawyer.key');
  const auditor = await loadStaffKey(auditorFile);
  t.equal(auditor.role, 'auditor');

  const sent = await runCli(['submit', '--server', server.url, '--fingerprint', fingerprint, '-m', 'for the desk only']);
  t.equal(sent.code, 0, sent.stderr);
  const tipId = /tip id: ([a-z2-7]{26})/.exec(sent.stdout)![1]!;

  const get = (path: string) => fetch(server.staffUrl + path, { headers: staffHeaders(auditor, 'GET', path) });

  const list = await get('/api/v1/staff/tips');
  t.equal(list.status, 200, 'the auditor lists the tips');
  const { tips } = (await list.json()) as { tips: Record<string, unknown>[] };
  t.equal(tips.length, 1);
  t.same(Object.keys(tips[0]!).sort(), ['expires_day', 'id', 'received_day', 'size'], 'metadata only: id, size, days');
  t.equal(tips[0]!.id, tipId);

  const audit = await get('/api/v1/staff/audit');
  t.equal(audit.status, 200, 'the auditor reads the audit chain');
  const body = (await audit.json()) as { entries: Parameters<typeof verifyChain>[0]; head: unknown };
  t.match(verifyChain(body.entries, fingerprint), { ok: true }, 'which verifies from the root');
  const head = verifySignedHead(body.head);
  t.equal(head.seq, body.entries[body.entries.length - 1]!.seq, 'with its signed head');

  const content = await get(`/api/v1/staff/tips/${tipId}`);
  t.equal(content.status, 403, "an auditor cannot read a tip's content");
  const refusal = (await content.json()) as { error: { code: string; message: string } };
  t.equal(refusal.error.code, 'TIPLINE_ERR_FORBIDDEN');
  t.match(refusal.error.message, /an auditor key can list the tips' metadata \(tipline list; GET \/api\/v1\/staff\/tips: ids, sizes, days\), read the audit chain \(GET \/api\/v1\/staff\/audit\) and run tipline audit; it cannot read, answer or delete tips/, 'and is told what it can do');

  const path = `/api/v1/staff/tips/${tipId}`;
  const del = await fetch(server.staffUrl + path, signedDelete(auditor, server.staffUrl, path));
  t.equal(del.status, 403, 'nor delete one, even with a signed statement');
  t.match(await del.json(), { error: { code: 'TIPLINE_ERR_FORBIDDEN', message: /an auditor key can list the tips' metadata/ } });

  const cli = await runCli(['delete', '--server', server.staffUrl, '--key', auditorFile, tipId]);
  t.not(cli.code, 0, 'tipline delete with an auditor key fails');
  t.match(cli.stderr, /an auditor key can list the tips' metadata \(tipline list: ids, sizes, days\), read the audit chain and run tipline audit; it cannot read, answer or delete tips/);
  t.notMatch(cli.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');

  t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 1, 'the tip is still there');
  t.notOk((await store.db.selectFrom('audit_log').select('kind').execute()).some((e) => e.kind === 'staff-delete'), 'and no deletion was recorded');
  t.notMatch(server.logs(), /"status":500/);
});

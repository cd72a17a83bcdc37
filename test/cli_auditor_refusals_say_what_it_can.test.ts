// An auditor's key used where a desk key is needed (fetch, reply, delete) is refused by the CLI before any request
// is sent, and by the server (403) if it gets one, with the same words: what an auditor key can do (list the
// tips' metadata, read the audit chain, run tipline audit) and what it cannot (read, answer or delete tips).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { staffHeaders } from './helpers/fixtures.js';
import { loadStaffKey } from '../client/cli/keyfiles.js';
import { publishDirectory } from '../server/directory.js';
import { AUDITOR_CAN } from '../client/cli/auditor.js';

process.env.TIPLINE_PASSPHRASE = 'correct horse battery staple';
const CAN = /can list the tips' metadata \(tipline list[:;] [^)]*\), read the audit chain( \(GET [^)]*\))? and run tipline audit; it cannot read, answer or delete tips/;

t.test("an auditor key's refusals say what it can do", async (t) => {
  const { work, keys, fingerprint, store, server } = await cliNewsroomServer(t);
  const add = await runCli(['keys', 'add-desk', '--dir', keys, '--name', 'auditor', '--auditor']);
  t.equal(add.code, 0, add.stderr);
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const auditorFile = join(keys, 'auditor.key');
  t.match(AUDITOR_CAN, CAN);

  // Nothing listens on port 1: a CLI that sent a request would say it cannot reach the server instead.
  const nowhere = 'http://127.0.0.1:1';
  const tip = 'cu3tpwjntm56q7llcx4m3gqghy';
  for (const argv of [
    ['fetch', '--server', nowhere, '--key', auditorFile, '--out', join(work, 'inbox')],
    ['reply', '--server', nowhere, '--key', auditorFile, tip, '-m', 'hello'],
    ['delete', '--yes', '--server', nowhere, '--key', auditorFile, tip],
  ]) {
    const r = await runCli(argv);
    t.equal(r.code, 2, `${argv[0]}: refused as a usage mistake`);
    t.match(r.stderr, new RegExp(`${auditorFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is an auditor's key, and tipline ${argv[0]} needs a desk key: an auditor key ${CAN.source}`), `${argv[0]}: says what an auditor key can do`);
    t.notMatch(r.stderr, /cannot reach/, `${argv[0]}: before any request`);
  }

  // The server says the same when asked directly.
  const sent = await runCli(['submit', '--server', server.url, '--fingerprint', fingerprint, '-m', 'for the desk only']);
  t.equal(sent.code, 0, sent.stderr);
  const tipId = /tip id: ([a-z2-7]{26})/.exec(sent.stdout)![1]!;
  const auditor = await loadStaffKey(auditorFile);
  const path = `/api/v1/staff/tips/${tipId}`;
  const res = await fetch(server.staffUrl + path, { headers: staffHeaders(auditor, 'GET', path) });
  t.equal(res.status, 403);
  const body = (await res.json()) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'TIPLINE_ERR_FORBIDDEN');
  t.match(body.error.message, new RegExp(`^an auditor key may not do this: an auditor key ${CAN.source}$`));

  // And what it can do, it can.
  const listed = await runCli(['list', '--server', server.staffUrl, '--key', auditorFile]);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, new RegExp(tipId));
});

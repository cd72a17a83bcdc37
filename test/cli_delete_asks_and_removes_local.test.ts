// `tipline delete` asks before it deletes, on the terminal, naming the tip by its day and first line; with no
// terminal it refuses (exit 2) unless --yes, deleting nothing. With --inbox it removes the local copy too, once
// the server confirmed; a tip gone from the server but still here is said so, and its copy removed on request.
// The server's audit chain records each deletion (staff-delete).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cliEnv, runCli, type CliResult } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { collect, uploadEnvelope } from './helpers/fixtures.js';
import { fromBase64 } from '../crypto/bytes.js';
import { encryptEnvelope, sentDay } from '../crypto/envelope/index.js';
import { tipFolder } from '../client/cli/inbox.js';

const ENV = { TIPLINE_PASSPHRASE: 'correct horse battery staple', TIPLINE_PROGRESS: '0' };

/** The CLI in a new session (setsid): no controlling terminal, so /dev/tty cannot be opened, as under cron. */
function runWithoutTerminal(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(ENV), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end('y\n'); // a "y" on standard input is not an answer
  });
}

/** The CLI on a pseudo-terminal (util-linux script), `answer` typed at it. Not spawnSync: the server answering
 * it runs in this process. */
function runOnTerminal(args: string[], answer: string): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnv(ENV), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: '' });
    });
    child.stdin.end(answer);
  });
}

t.test('delete asks, refuses with no terminal, and removes the local copy after the server', async (t) => {
  const { work, keys, store, server } = await cliNewsroomServer(t, { powDifficulty: 0 });
  const deskKey = join(keys, 'desk.key');
  const desk = JSON.parse(readFileSync(deskKey, 'utf8')) as { public: { box: string } };
  const send = async (message: string) =>
    (await uploadEnvelope(server.url, await collect(encryptEnvelope({ recipients: [fromBase64(desk.public.box)], manifest: { v: 2, sent_day: sentDay(new Date()), message, files: [] }, files: [] }).stream))).tip_id;
  const a = await send('First tip: the harbour contract');
  const b = await send('Second tip: the school budget');
  const c = await send('Third tip\x1b[31m red');
  const inbox = join(work, 'inbox');
  t.equal((await runCli(['fetch', '--server', server.staffUrl, '--key', deskKey, '--out', inbox])).code, 0);
  const onServer = async () => (await store.db.selectFrom('tips').select('id').execute()).map((r) => r.id).sort();
  const deletions = async () => (await store.db.selectFrom('audit_log').select('kind').execute()).filter((e) => e.kind === 'staff-delete').length;

  const refused = await runWithoutTerminal(['delete', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, a]);
  t.equal(refused.code, 2, 'no terminal and no --yes: a usage refusal');
  t.match(refused.stderr, /no terminal to ask on: nothing was deleted; add --yes/);
  t.same(await onServer(), [a, b, c].sort(), 'nothing deleted on the server');
  t.ok(tipFolder(inbox, a), 'nor here');
  t.equal(await deletions(), 0);

  const yes = await runWithoutTerminal(['delete', '--yes', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, a]);
  t.equal(yes.code, 0, yes.stderr);
  t.match(yes.stdout, new RegExp(`deleted ${a} on the server`));
  t.match(yes.stdout, new RegExp(`deleted ${a} on this machine \\(.*_first-tip-the-harbour-contract_${a}\\)`), 'says the local copy went too');
  t.same(await onServer(), [b, c].sort());
  t.equal(tipFolder(inbox, a), undefined, 'the local folder is gone');
  t.equal(await deletions(), 1, 'the audit chain has the staff-delete entry');

  // On a terminal: "n" keeps it, "y" deletes it; the question names the tip by day and first line.
  const no = await runOnTerminal(['delete', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, b], 'n\n');
  t.equal(no.code, 0, no.stdout);
  t.match(no.stdout, new RegExp(`Delete tip ${b} \\(received \\d{4}-\\d{2}-\\d{2}, "Second tip: the school budget"\\) from the server and this machine\\? \\[y/N\\]`));
  t.match(no.stdout, new RegExp(`${b}: kept`));
  t.same(await onServer(), [b, c].sort(), 'no: kept on the server');
  t.ok(tipFolder(inbox, b), 'and here');
  const ok = await runOnTerminal(['delete', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, c], 'y\n');
  t.equal(ok.code, 0, ok.stdout);
  t.match(ok.stdout, new RegExp(`Delete tip ${c} \\(received [^)]*"Third tip\\[31m red"\\)`), 'the first line printed inert in the question');
  t.notMatch(ok.stdout, /\x1b\[31m/);
  t.same(await onServer(), [b], 'yes: deleted');
  t.equal(tipFolder(inbox, c), undefined);
  t.equal(await deletions(), 2);

  // Deleted on the server only (no --inbox): the local copy stays; a later delete with --inbox says so and removes it.
  t.equal((await runWithoutTerminal(['delete', '--yes', '--server', server.staffUrl, '--key', deskKey, b])).code, 0);
  t.ok(tipFolder(inbox, b), 'without --inbox the local copy stays');
  const local = await runWithoutTerminal(['delete', '--yes', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, b]);
  t.equal(local.code, 0, local.stderr);
  t.match(local.stdout, new RegExp(`${b}: not on the server \\(deleted already, or expired\\); its local copy is`));
  t.match(local.stdout, new RegExp(`${b}: local copy removed`));
  t.equal(tipFolder(inbox, b), undefined);
  t.equal(await deletions(), 3, 'no deletion recorded for a tip the server no longer had');

  const gone = await runWithoutTerminal(['delete', '--yes', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, b]);
  t.equal(gone.code, 1, 'neither on the server nor here: a failure');
  t.match(gone.stderr, new RegExp(`error: ${b}: not on the server \\(deleted already, or expired\\) and not in`));
  t.ok(existsSync(inbox));

  const bad = await runCli(['delete', '--server', server.staffUrl, '--key', deskKey, 'not-an-id']);
  t.equal(bad.code, 2);
  const help = await runCli(['delete', '--help']);
  t.match(help.stdout, /--yes\s+do not ask/);
});

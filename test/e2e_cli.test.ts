// A tip goes from a source to a desk through the real CLI and a real `tipline serve`: keys init, serve,
// submit a message and two files (one of 50 MB), a server killed with -9 right after acknowledging, an upload
// interrupted by a server crash and resumed, fetch and decrypt — bytes identical. Then everything the server
// kept (every table and column, every byte of the PGlite folder, every log line) is searched for the
// plaintext, the file names, the client's address, its User-Agent, cookie, referrer and X-Forwarded-For.
import t from 'tap';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { dialects, createPgDatabase, seedPglite } from './helpers/databases.js';
import { runCli, startCliServer } from './helpers/cli.js';
import { dumpDatabase, dumpFolder, findLeaks, liveColumns } from './helpers/dump.js';
import { rawRequest } from './helpers/raw-http.js';
import { collect } from './helpers/fixtures.js';
import { sql } from 'kysely';
import { openDatabase } from '../server/db.js';
import { STORED_COLUMNS } from '../schema/db.js';
import { verifyDirectory, activeRecipients } from '../crypto/directory.js';
import { encryptEnvelope } from '../crypto/envelope/index.js';
import { fromBase64 } from '../crypto/bytes.js';
import { solvePow } from '../crypto/pow.js';
import { tipFolder } from '../client/cli/inbox.js';

const MB = 1024 * 1024;
const UA = 'Mozilla/5.0 (UA-marker-7f3a; rv:140.0) Gecko/20100101 Firefox/140.0';
const XFF = '203.0.113.77';
const SOURCE_ADDRESS = '127.0.0.2';

async function writePseudoRandom(path: string, size: number, seed: string): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  let block = createHash('sha256').update(seed).digest();
  let written = 0;
  while (written < size) {
    const parts: Buffer[] = [];
    for (let i = 0; i < 2048 && written < size; i++) {
      block = createHash('sha256').update(block).digest();
      const piece = block.subarray(0, Math.min(32, size - written));
      parts.push(piece);
      written += piece.length;
    }
    const buf = Buffer.concat(parts);
    hash.update(buf);
    if (!out.write(buf)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

for (const dialect of await dialects()) {
  t.test(`source to desk through the real CLI on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'tipline-e2e-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const keys = join(work, 'keys');
    const dataDir = join(work, 'data');
    const env: Record<string, string> = { TIPLINE_POW_DIFFICULTY: '8' };
    let pgUrl: string | undefined;
    if (dialect.name === 'postgres') {
      const created = await createPgDatabase();
      t.teardown(() => created.drop());
      pgUrl = created.url;
      env.DATABASE_URL = pgUrl;
    } else {
      env.DATABASE_URL = '';
      await seedPglite(join(dataDir, 'pg')); // a migrated empty folder; data_folder_lock has serve create one
    }
    const logs: string[] = [];
    const servers: { child: import('node:child_process').ChildProcess; output: () => string }[] = [];
    t.teardown(() => servers.forEach((s) => s.child.kill('SIGKILL')));
    const start = async (port: string, staffPort = '0') => {
      const s = await startCliServer(['--host', '127.0.0.1', '--port', port, '--staff-port', staffPort, '--data', dataDir, '--directory', join(keys, 'directory.json')], env);
      servers.push(s);
      return s;
    };
    const kill9 = async (s: { child: import('node:child_process').ChildProcess; output: () => string }) => {
      const exited = once(s.child, 'exit');
      s.child.kill('SIGKILL');
      await exited;
      logs.push(s.output());
    };

    const init = await runCli(['keys', 'init', '--dir', keys]);
    t.equal(init.code, 0, init.stderr);
    const fp = /fingerprint: (.+)/.exec(init.stdout)?.[1];
    t.ok(fp, 'keys init prints the fingerprint');
    if (pgUrl) env.TIPLINE_ROOT_FINGERPRINT = fp!; // with DATABASE_URL, serve requires the pin

    let server = await start('0');
    const url = server.url;
    const port = new URL(url).port;
    const staffUrl = server.staffUrl;
    const staffPort = new URL(staffUrl).port;
    t.match(server.output(), new RegExp(`root fingerprint: ${fp}`), 'serve prints the root fingerprint');

    const message = `PLAINTEXT-MARKER-${Date.now()} the agency demanded the names of every critic`;
    const bigName = 'FILENAME-MARKER-evidence.bin';
    const smallName = 'FILENAME-MARKER-Demand letter (draft).txt';
    const big = join(work, bigName);
    const small = join(work, smallName);
    const bigHash = await writePseudoRandom(big, 50 * MB + 12345, 'big');
    writeFileSync(small, 'FILE-CONTENT-MARKER the demand letter\n');

    const sub = await runCli(['submit', '--server', url, '--fingerprint', fp!, '-m', message, '--file', big, '--file', small], { timeoutMs: 300_000 });
    t.equal(sub.code, 0, sub.stderr);
    const tipId = /tip id: ([a-z2-7]{26})/.exec(sub.stdout)?.[1];
    t.ok(tipId, 'submit prints a receipt with the tip id');

    // Acknowledged means durable: kill -9 immediately after the receipt, restart, the tip is there.
    await kill9(server);
    server = await start(port, staffPort);

    // An upload interrupted by a server crash resumes where it stopped when the server comes back.
    const resumeName = 'FILENAME-MARKER-resumed.bin';
    const resumed = join(work, resumeName);
    const resumedHash = await writePseudoRandom(resumed, 24 * MB, 'resumed');
    const pending = runCli(['submit', '--server', url, '--fingerprint', fp!, '-m', `${message} (second)`, '--file', resumed], { timeoutMs: 300_000 });
    const deadline = Date.now() + 120_000;
    while ((server.output().match(/chunks\/:n","status":200/g) ?? []).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const storedBeforeCrash = (server.output().match(/chunks\/:n","status":200/g) ?? []).length;
    t.ok(storedBeforeCrash >= 5, `the server stored ${storedBeforeCrash} chunks before the crash`);
    await kill9(server);
    await new Promise((r) => setTimeout(r, 1500));
    server = await start(port, staffPort);
    const second = await pending;
    t.equal(second.code, 0, 'the interrupted submit finished');
    if (second.code !== 0) t.comment(second.stderr);
    t.match(second.stderr, /retrying/, 'the client said it was retrying');
    const secondId = /tip id: ([a-z2-7]{26})/.exec(second.stdout)?.[1];
    t.ok(secondId);
    const chunksAfterRestart = (server.output().match(/chunks\/:n","status":20[01]/g) ?? []).length;
    t.ok(chunksAfterRestart < 25, `only the missing chunks were sent again (${chunksAfterRestart} of 25 after the restart)`);

    // A source whose browser sends identifying headers, from a distinct loopback address.
    const ident = { 'user-agent': UA, 'x-forwarded-for': XFF, cookie: 'session=COOKIE-MARKER', referer: 'http://REFERER-MARKER.example/' };
    const dirDoc = JSON.parse((await rawRequest(`${url}/.well-known/tipline/directory`, { method: 'GET', headers: ident, localAddress: SOURCE_ADDRESS })).body);
    const desks = activeRecipients(verifyDirectory(dirDoc, fp!, new Date()), 'desk', new Date());
    async function* one(b: Uint8Array) {
      yield b;
    }
    const thirdMessage = `${message} (third, with headers)`;
    const env3 = encryptEnvelope({ recipients: desks.map((d) => fromBase64(d.box_key)), manifest: { v: 2, sent_day: new Date().toISOString().slice(0, 10), message: thirdMessage, files: [{ name: smallName, type: 'text/plain', size: 5 }] }, files: [one(new TextEncoder().encode('hello'))] });
    const bytes3 = await collect(env3.stream);
    const challenge = JSON.parse((await rawRequest(`${url}/api/v1/pow`, { method: 'GET', headers: ident, localAddress: SOURCE_ADDRESS })).body);
    const pow = { 'tipline-pow-token': challenge.token, 'tipline-pow-nonce': await solvePow(challenge.token, challenge.difficulty) };
    const created = await rawRequest(`${url}/api/v1/uploads?size=${bytes3.length}&finish=1`, { method: 'POST', headers: { ...ident, ...pow, 'content-type': 'application/octet-stream' }, body: bytes3, localAddress: SOURCE_ADDRESS });
    t.equal(created.status, 201, created.body);
    const upload = { id: JSON.parse(created.body).tip_id as string };
    const bad = await rawRequest(`${url}/api/v1/uploads/${upload.id}/chunks/0`, { method: 'PUT', headers: { ...ident, 'content-type': 'application/octet-stream' }, body: bytes3, localAddress: SOURCE_ADDRESS });
    t.equal(bad.status, 404, 'errors are answered too (and must not log the sender either)');

    const inbox = join(work, 'inbox');
    const fetched = await runCli(['fetch', '--server', staffUrl, '--key', join(keys, 'desk.key'), '--out', inbox], { timeoutMs: 300_000 });
    t.equal(fetched.code, 0, fetched.stderr);
    t.match(fetched.stdout, /3 fetched/);
    t.equal(readFileSync(join(tipFolder(inbox, tipId!)!, 'message.txt'), 'utf8'), message);
    t.equal(sha(join(tipFolder(inbox, tipId!)!, 'files', bigName)), bigHash, 'the 50 MB file is byte-identical');
    t.equal(readFileSync(join(tipFolder(inbox, tipId!)!, 'files', smallName), 'utf8'), 'FILE-CONTENT-MARKER the demand letter\n');
    t.equal(sha(join(tipFolder(inbox, secondId!)!, 'files', resumeName)), resumedHash, 'the resumed upload is byte-identical');
    t.equal(readFileSync(join(tipFolder(inbox, upload.id)!, 'message.txt'), 'utf8'), thirdMessage);
    const again = await runCli(['fetch', '--server', staffUrl, '--key', join(keys, 'desk.key'), '--out', inbox]);
    t.match(again.stdout, /0 fetched, 3 already here/);

    // Stop the server, then look at everything it kept.
    const stopped = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    await stopped;
    logs.push(server.output());
    const opened = await openDatabase(pgUrl ? { url: pgUrl } : { dataDir: join(dataDir, 'pg') });
    t.teardown(() => opened.close());
    t.same(await liveColumns(opened.db), STORED_COLUMNS, 'the database holds exactly the declared columns');
    const types = await sql<{ column_name: string; data_type: string }>`
      select column_name, data_type from information_schema.columns where table_name = 'tips' and data_type like 'time%'`.execute(opened.db);
    t.same(types.rows, [], 'tips have no time-of-day column');
    const days = await opened.db.selectFrom('tips').select(sql<string>`received_day::text`.as('day')).execute();
    t.equal(days.length, 3);
    for (const d of days) t.match(d.day, /^\d{4}-\d{2}-\d{2}$/, 'source times are days');

    const needles = [message.slice(0, 40), 'PLAINTEXT-MARKER', 'FILENAME-MARKER', 'FILE-CONTENT-MARKER', 'UA-marker-7f3a', XFF, SOURCE_ADDRESS, 'COOKIE-MARKER', 'REFERER-MARKER'];
    t.same(findLeaks(await dumpDatabase(opened.db), needles), [], 'no plaintext, name, address or header in any table');
    const logText = Buffer.from(logs.join('\n'));
    t.same(findLeaks(logText, needles), [], 'nor in anything the server logged');
    t.notMatch(logs.join('\n'), /"time"|"hostname"|"pid"|remoteAddress|"ip"/, 'log lines carry no time, host, pid or address fields');
    t.ok((logs.join('\n').match(/"route":/g) ?? []).length > 20, 'requests were logged (method, route, status, duration)');
    if (!pgUrl) {
      await opened.close();
      t.same(findLeaks(dumpFolder(dataDir), needles), [], 'nor anywhere in the PGlite data folder (WAL included)');
    }
    t.ok(readdirSync(inbox).length === 3);
  });
}

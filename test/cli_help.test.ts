// What a newcomer types first: every command and subcommand answers --help, --version prints the version, and
// each usual mistake gets exactly one line that says what to type instead, with exit code 2 (1 for a failure
// that is not a usage mistake). Runs the built CLI.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { seedPglite } from './helpers/databases.js';

const FP = 'abcd efgh ijkl mnop qrst uvwx yz23 4567';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function oneLine(t: Test, r: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  t.equal(r.code, code, `exit ${code}`);
  t.equal(lines.length, 1, `one line: ${r.stderr.trim()}`);
  t.match(lines[0], /^tipline: /);
  t.match(lines[0], pattern);
  t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+|ERR_PARSE_ARGS|Invalid URL|TypeError/, 'no stack trace or raw parser message');
}

/** Runs the CLI a few at a time: each run is mostly Node starting up. */
async function inParallel<T>(tasks: (() => Promise<T>)[], width = 4): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'tipline-help-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('every command and subcommand has --help', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--help'], /usage: tipline <command>[\s\S]*keys add-desk[\s\S]*submit/],
    [['help'], /usage: tipline <command>/],
    [['serve', '--help'], /usage: tipline serve [\s\S]*--fingerprint FP/],
    [['keys', '--help'], /usage: tipline keys init[\s\S]*tipline keys add-desk/],
    [['keys', 'init', '--help'], /usage: tipline keys init --dir DIR[\s\S]*--days N/],
    [['keys', 'add-desk', '-h'], /usage: tipline keys add-desk --dir DIR --name NAME[\s\S]*--auditor/],
    [['submit', '--help'], /usage: tipline submit --server URL[\s\S]*--socks HOST:PORT/],
    [['fetch', '--help'], /usage: tipline fetch --server URL --key FILE --out DIR/],
    [['delete', '--help'], /usage: tipline delete --server URL --key FILE \[--inbox DIR \| --data DIR\] \[--yes\][\s\S]*\[y\/N\]/],
    [['list', '--help'], /usage: tipline list --server URL --key FILE[\s\S]*--json/],
    [['submit', '--help'], /--replies[\s\S]*--codename[\s\S]*TIPLINE_CODENAME[\s\S]*--keep-metadata/],
    [['replies', '--help'], /usage: tipline replies --server URL --fingerprint FP \[--out DIR\] \[--delete\]/],
    [['reply', '--help'], /usage: tipline reply --server URL --key FILE TIP_ID \[-m TEXT \| < reply.txt\] \[--inbox DIR\]/],
    [['fetch', '--help'], /threads\.json/],
    [['help', 'keys', 'init'], /usage: tipline keys init/],
    // --help wins over whatever else is on the line, wrong or not.
    [['delete', '--server', 'nowhere', '--help'], /usage: tipline delete/],
  ];
  const results = await inParallel(cases.map(([args]) => () => runCli(args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = results[i]!;
    t.equal(r.code, 0, `tipline ${args.join(' ')} exits 0`);
    t.match(r.stdout, pattern, `tipline ${args.join(' ')} prints its help`);
    t.equal(r.stderr, '', 'nothing on stderr');
  }
});

t.test('--version', async (t) => {
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    t.equal(r.code, 0);
    t.equal(r.stdout, `tipline ${pkg.version}\n`);
  }
});

t.test('no command: the overview, exit 2', async (t) => {
  const r = await runCli([]);
  t.equal(r.code, 2);
  t.match(r.stderr, /usage: tipline <command>/);
});

t.test('each usual mistake: one line saying what to do, exit 2', async (t) => {
  const key = join(work, 'not-a-key.key');
  writeFileSync(join(work, 'demand.pdf'), 'x');
  const cases: [string[], RegExp][] = [
    [['sbumit'], /unknown command "sbumit": did you mean submit\?/],
    [['frobnicate'], /unknown command "frobnicate": the commands are serve, keys, policy, canary, submit, replies, fetch, reply, delete, audit, verify-site/],
    [['--port', '8080'], /"--port" is not a command: the command comes first, e.g\. tipline serve --port 8080/],
    [['keys'], /keys needs a subcommand: tipline keys init --dir DIR .* tipline keys add-desk/],
    [['keys', 'make'], /unknown keys subcommand "make"/],
    [['keys', 'init'], /missing --dir DIR: the folder for the keys, e\.g\. --dir keys \(tipline keys init --help\)/],
    [['keys', 'add-desk', '--dir', work], /missing --name NAME/],
    [['keys', 'init', '--dir', work, '--days', 'soon'], /--days must be a whole number/],
    [['keys', 'init', '--dir', work, '--auditor'], /unknown option --auditor: the options are --dir, --name, --days/],
    [['submit', '--server', '127.0.0.1:8080'], /missing --fingerprint FP/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', 'abcd', 'efgh'], /put the fingerprint in quotes, --fingerprint "xxxx xxxx …"/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', 'abcd'], /--fingerprint: .*32 base32 characters, got 4; copy the 8 groups of 4/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP, 'my tip'], /unexpected "my tip": .*standard input or after -m/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP], /nothing to send: the message is empty/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP, '-m', 'x', '--file', join(work, 'missing.pdf')], /--file .*missing\.pdf: no such file/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP, '-m', 'x', '--file', work], /not a file/],
    [['submit', '--server', 'ftp://127.0.0.1', '--fingerprint', FP, '-m', 'x'], /--server must start with http:\/\/ or https:\/\//],
    [['submit', '--server', 'http://', '--fingerprint', FP, '-m', 'x'], /is not an address: give the tip line's, e\.g\. --server http:\/\/127\.0\.0\.1:8080/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP, '-m', 'x', '--socks', 'tor'], /SOCKS proxy "tor": expected HOST:PORT/],
    [['submit', '--server'], /--server needs a value after it \(tipline submit --help\)/],
    [['submit', '--bogus'], /unknown option --bogus: the options are --server, --fingerprint, --message, --file, --socks, --retry-for/],
    [['fetch', '--server', '127.0.0.1:8080', '--out', work], /missing --key FILE: your desk key file, e\.g\. --key keys\/desk\.key/],
    [['fetch', '--server', '127.0.0.1:8080', '--key', join(work, 'nope.key'), '--out', work], /no key file at .*nope\.key: a desk's key is made by tipline keys init/],
    [['delete', '--server', '127.0.0.1:8080'], /missing --key FILE/],
    [['delete', '--server', '127.0.0.1:8080', '--key', key], /which tips\? give their ids/],
    [['delete', '--server', '127.0.0.1:8080', '--key', key, 'inbox/abc'], /"inbox\/abc" is not a tip id: 26 characters/],
    [['serve', '--port', '99999'], /--port must be a whole number from 0 to 65535, not "99999"/],
    [['serve', '--fingerprint', ''], /--fingerprint is empty: give the root fingerprint that tipline keys init printed/],
    [['serve', '--directory', join(work, 'nope.json')], /--directory .*nope\.json: no such file \(tipline keys init --dir keys makes keys\/directory\.json\)/],
    [['serve', '--fingerprint', 'not one'], /--fingerprint: .*copy the 8 groups of 4/],
    [['help', 'frob'], /no help for "frob"/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP, '-m', 'x', '--replies', '--codename'], /--replies and --codename do not go together/],
    [['replies', '--server', '127.0.0.1:8080'], /missing --fingerprint FP: .*\(tipline replies --help\)/],
    [['replies', '--server', '127.0.0.1:8080', '--fingerprint', FP, 'abandon ability'], /^tipline: the codename is never given as an argument[^"]*TIPLINE_CODENAME[^"]*$/],
    [['submit', '--server', '127.0.0.1:8080', '--fingerprint', FP, '-m', 'x', '--codename', 'abandon ability'], /^tipline: the codename is never given as an argument[^"]*$/],
    [['reply', '--server', '127.0.0.1:8081', '--key', key], /which tip\? give its id/],
    [['reply', '--server', '127.0.0.1:8081', '--key', key, 'a', 'b'], /one tip at a time/],
    [['reply', '--server', '127.0.0.1:8081', '--key', key, 'inbox/abc'], /"inbox\/abc" is not a tip id: 26 characters/],
  ];
  writeFileSync(key, '{}');
  const results = await inParallel(cases.map(([args]) => () => runCli(args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    await t.test(`tipline ${args.join(' ')}`, async (t) => oneLine(t, results[i]!, 2, pattern));
  }
});

t.test('--server without a scheme means http://', async (t) => {
  // Nothing listens on port 9: the address was understood (no "Invalid URL") and the failure names it.
  const r = await runCli(['submit', '--server', '127.0.0.1:9', '--fingerprint', FP, '--retry-for', '0'], { input: 'a tip' });
  oneLine(t, r, 1, /cannot reach the server: ECONNREFUSED; is the tip line running at http:\/\/127\.0\.0\.1:9\/\? \(check --server\)/);
});

t.test('serve on a port another program holds: one line, and how to choose another', async (t) => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => holder.close(() => r())));
  const port = (holder.address() as { port: number }).port;
  const data = join(work, 'data');
  await seedPglite(join(data, 'pg'));
  const r = await runCli(['serve', '--port', String(port), '--data', data], { env: { DATABASE_URL: '' }, timeoutMs: 60_000 });
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('tipline:'));
  t.equal(r.code, 1);
  t.equal(lines.length, 1, r.stderr);
  t.match(lines[0], new RegExp(`127\\.0\\.0\\.1:${port} is already in use \\(another tipline serve\\?\\): stop it, or choose another with --port N`));
});

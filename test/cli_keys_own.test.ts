// A journalist's own key over its life, through the built CLI: `keys request` makes it on their machine (the
// request holds no secret, names may be in any script), `keys passwd` changes one file's passphrase atomically,
// and a new passphrase has one minimum whether typed (on a real terminal) or taken from the environment.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cliEnv, runCli, type CliResult } from './helpers/cli.js';
import { initCrypto } from '../crypto/node.js';
import { readKeyRequest } from '../crypto/key-request.js';
import { DEFAULT_KDF, MIN_KDF, openKeyFile, sealKeyFile } from '../crypto/keyfile.js';
import { fingerprint, generateDeskKey } from '../crypto/keys.js';
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import { WrongPassphraseError } from '../crypto/errors.js';
import { keyFileSlug } from '../client/cli/keyfiles.js';

await initCrypto();

const PASS = 'correct horse battery staple'; // runCli's TIPLINE_PASSPHRASE
const NEW = 'a different long passphrase';
const work = mkdtempSync(join(tmpdir(), 'tipline-keys-own-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function oneLine(t: Test, r: CliResult, code: number, pattern: RegExp): void {
  t.equal(r.code, code, `exit ${code}`);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${r.stderr.trim()}`);
  t.match(lines[0], /^tipline: /);
  t.match(lines[0], pattern);
  t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
}

t.test('--help for keys request and keys passwd; fetch --help states its exit codes', async (t) => {
  const cases: [string[], RegExp][] = [
    [['keys', 'request', '--help'], /usage: tipline keys request --name NAME \[--role desk\|auditor\] --out DIR[\s\S]*at least 12 characters/],
    [['keys', 'passwd', '-h'], /usage: tipline keys passwd --key FILE[\s\S]*TIPLINE_NEW_PASSPHRASE/],
    [['help', 'keys', 'request'], /usage: tipline keys request/],
    [['fetch', '--help'], /sent before this key was added; ask a desk that was listed[\s\S]*Exit code 0[\s\S]*1 when any/],
    [['--help'], /keys request[\s\S]*keys passwd/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, pattern);
    t.equal(r.stderr, '');
  }
});

t.test('slugs: ASCII, no path characters, any script', async (t) => {
  const cases: [string, string][] = [
    ['María López', 'maria-lopez'],
    ['Zoë', 'zoe'],
    ['李明', 'u674e-u660e'],
    ["O'Brien", 'o-brien'],
    ['Søren Æbelø', 'soren-aebelo'],
    ['desk-2', 'desk-2'],
    ['Андрій', 'u430-u43d-u434-u440-u456-u439'],
  ];
  for (const [name, slug] of cases) t.equal(keyFileSlug(name), slug, name);
  for (const name of ['../../etc/passwd', '.hidden', 'a/b\\c', '-rf', 'x'.repeat(300), '\u202Eexe.txt']) {
    const s = keyFileSlug(name);
    t.match(s, /^[a-z0-9][a-z0-9-]{0,95}$/, `${JSON.stringify(name)} -> ${s}`);
  }
});

t.test('keys request: a desk key for "María López" stays here; the request holds only public keys', async (t) => {
  const out = join(work, 'maria');
  // Typed decomposed (as macOS may): stored NFC, one name, one spelling.
  const r = await runCli(['keys', 'request', '--name', 'Mari\u0301a Lo\u0301pez', '--out', out]);
  t.equal(r.code, 0, r.stderr);
  t.same(readdirSync(out).sort(), ['maria-lopez.key', 'maria-lopez.request.json']);
  const keyPath = join(out, 'maria-lopez.key');
  const reqPath = join(out, 'maria-lopez.request.json');
  t.equal(statSync(keyPath).mode & 0o777, 0o600, 'private key file 0600');
  t.equal(statSync(out).mode & 0o777, 0o700, 'its folder 0700');
  const req = readKeyRequest(JSON.parse(readFileSync(reqPath, 'utf8')));
  t.equal(req.name, 'María López');
  t.equal(req.role, 'desk');
  const k = openKeyFile(JSON.parse(readFileSync(keyPath, 'utf8')), PASS);
  t.equal(k.name, 'María López');
  t.equal(toBase64(k.public.box!), req.box_key, 'the request is for this key');
  t.equal(toBase64(k.public.sign!), req.sign_key);
  const requestText = readFileSync(reqPath, 'utf8');
  for (const [what, secret] of Object.entries(k.secret)) {
    t.notOk(requestText.includes(toBase64(secret)), `no secret ${what} key in the request`);
    t.notOk(requestText.includes(toBase64(secret.subarray(0, 32))), `not even its seed half (${what})`);
  }
  t.match(r.stdout, new RegExp(`fingerprint: ${fingerprint(fromBase64(req.sign_key))}`), 'prints the fingerprint the root holder will see');
  t.equal((JSON.parse(readFileSync(keyPath, 'utf8')) as { kdf: { memlimit: number } }).kdf.memlimit, DEFAULT_KDF.memlimit, 'sealed at the CLI cost');

  const again = await runCli(['keys', 'request', '--name', 'María López', '--out', out]);
  oneLine(t, again, 2, /maria-lopez\.key already exists/);
  t.equal(readFileSync(reqPath, 'utf8'), requestText, 'nothing replaced');
});

t.test('keys request: other scripts and the auditor role', async (t) => {
  const out = join(work, 'li');
  const r = await runCli(['keys', 'request', '--name', '李明', '--role', 'auditor', '--out', out]);
  t.equal(r.code, 0, r.stderr);
  const req = readKeyRequest(JSON.parse(readFileSync(join(out, 'u674e-u660e.request.json'), 'utf8')));
  t.same([req.name, req.role], ['李明', 'auditor']);
});

t.test('keys request: mistakes get one line and exit 2, and write nothing', async (t) => {
  const out = join(work, 'mistakes');
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [['--name', 'Eve\u202Etxt.exe', '--out', out], /--name .*U\+202E/],
    [['--name', '../../x', '--out', out], /--name .*U\+002F/],
    [['--name', '..x', '--out', out], /--name .*begin with a letter/],
    [['--name', 'a/b', '--out', out], /U\+002F/],
    [['--name', 'x'.repeat(65), '--out', out], /longer than 64/],
    [['--name', 'Alice', '--role', 'root', '--out', out], /--role must be desk or auditor/],
    [['--name', 'Alice'], /missing --out DIR/],
    [['--out', out], /missing --name NAME/],
    [['--name', 'Alice', '--out', out], /passphrase too short \(TIPLINE_PASSPHRASE\): use at least 12 characters, not 11/, { TIPLINE_PASSPHRASE: 'elevenchars' }],
  ];
  for (const [args, pattern, env] of cases) {
    const r = await runCli(['keys', 'request', ...args], env ? { env } : {});
    oneLine(t, r, 2, pattern);
  }
  t.same(existsSync(out) ? readdirSync(out) : [], [], 'no file written by any of them');
});

t.test('keys passwd: the new passphrase opens the file, the old one no longer does; the keys are the same', async (t) => {
  // Sealed here at the cheapest cost allowed (keys request is tested above): passwd raises it to the CLI's.
  const dir = join(work, 'passwd');
  mkdirSync(dir);
  const keyPath = join(dir, 'zoe.key');
  const d = generateDeskKey();
  writeFileSync(keyPath, JSON.stringify(sealKeyFile({ role: 'desk', name: 'Zoë', public: { box: d.boxPublic, sign: d.signPublic }, secret: { box: d.boxSecret, sign: d.signSecret }, passphrase: PASS, kdf: MIN_KDF })), { mode: 0o600 });
  const before = readFileSync(keyPath, 'utf8');
  const original = openKeyFile(JSON.parse(before), PASS);

  // Failures first: each leaves the file byte for byte as it was.
  const wrong = await runCli(['keys', 'passwd', '--key', keyPath], { env: { TIPLINE_PASSPHRASE: 'not the passphrase at all', TIPLINE_NEW_PASSPHRASE: NEW } });
  oneLine(t, wrong, 1, /wrong passphrase for .*zoe\.key; it is unchanged/);
  const short = await runCli(['keys', 'passwd', '--key', keyPath], { env: { TIPLINE_NEW_PASSPHRASE: 'short' } });
  oneLine(t, short, 2, /passphrase too short \(TIPLINE_NEW_PASSPHRASE\): use at least 12 characters, not 5/);
  const same = await runCli(['keys', 'passwd', '--key', keyPath], { env: { TIPLINE_NEW_PASSPHRASE: PASS } });
  oneLine(t, same, 2, /the new passphrase is the current one/);
  const none = await runCli(['keys', 'passwd', '--key', keyPath]);
  oneLine(t, none, 2, /no passphrase: set TIPLINE_NEW_PASSPHRASE or run in a terminal/);
  const missing = await runCli(['keys', 'passwd', '--key', join(dir, 'nope.key')]);
  oneLine(t, missing, 2, /no key file at/);
  t.equal(readFileSync(keyPath, 'utf8'), before, 'unchanged after every failure');

  // While it runs, the path always holds a whole key file, the old or the new: never a half-written one.
  let reads = 0;
  const seen = new Set<string>();
  let torn = 0;
  let running = true;
  const watcher = (async () => {
    while (running) {
      const text = readFileSync(keyPath, 'utf8');
      reads++;
      try {
        JSON.parse(text);
        seen.add(text === before ? 'old' : 'new');
      } catch {
        torn++;
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  const ok = await runCli(['keys', 'passwd', '--key', keyPath], { env: { TIPLINE_NEW_PASSPHRASE: NEW } });
  running = false;
  await watcher;
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /passphrase changed: .*zoe\.key \(desk key "Zoë"\)/);
  t.equal(torn, 0, `never torn (${reads} reads while it ran)`);
  t.ok(seen.has('old'), 'the old file was whole until the switch');

  t.equal(statSync(keyPath).mode & 0o777, 0o600, 'still 0600');
  t.same(readdirSync(dir), ['zoe.key'], 'no temporary file left behind');
  const after = JSON.parse(readFileSync(keyPath, 'utf8')) as { kdf: { opslimit: number; memlimit: number } };
  t.same([after.kdf.opslimit, after.kdf.memlimit], [DEFAULT_KDF.opslimit, DEFAULT_KDF.memlimit], 'resealed at the CLI cost, never below what the file had');
  t.throws(() => openKeyFile(after, PASS), WrongPassphraseError, 'the old passphrase no longer opens it');
  const reopened = openKeyFile(after, NEW);
  t.same(reopened, original, 'same role, name and keys');
});

t.test('keys passwd: each key file has its own passphrase; a symbolic link is followed, not replaced', async (t) => {
  const keys = join(work, 'newsroom');
  t.equal((await runCli(['keys', 'init', '--dir', keys])).code, 0);
  const link = join(work, 'my-desk.key');
  symlinkSync(join(keys, 'desk.key'), link);
  const r = await runCli(['keys', 'passwd', '--key', link], { env: { TIPLINE_NEW_PASSPHRASE: NEW } });
  t.equal(r.code, 0, r.stderr);
  t.ok(statSync(link).isFile() && readFileSync(link, 'utf8') === readFileSync(join(keys, 'desk.key'), 'utf8'), 'the link still points at the key');
  t.doesNotThrow(() => openKeyFile(JSON.parse(readFileSync(join(keys, 'desk.key'), 'utf8')), NEW), 'desk.key: new passphrase');
  t.doesNotThrow(() => openKeyFile(JSON.parse(readFileSync(join(keys, 'root.key'), 'utf8')), PASS), 'root.key: still its own, old passphrase');
});

t.test('a new passphrase from the environment meets the same minimum (keys init too)', async (t) => {
  for (const [p, n] of [['elevenchars', 11], ['e\u0301'.repeat(11), 11]] as const) {
    const r = await runCli(['keys', 'init', '--dir', join(work, `init-${n}-${p.length}`)], { env: { TIPLINE_PASSPHRASE: p } });
    oneLine(t, r, 2, new RegExp(`passphrase too short \\(TIPLINE_PASSPHRASE\\): use at least 12 characters, not ${n}`));
  }
  const twelve = await runCli(['keys', 'request', '--name', 'Twelve', '--out', join(work, 'twelve-env')], { env: { TIPLINE_PASSPHRASE: 'twelve chars' } });
  t.equal(twelve.code, 0, `12 characters are enough: ${twelve.stderr}`);
});

// ---- typed, on a real terminal (script(1) gives the CLI a pseudo-terminal) ----

const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs the CLI on a pseudo-terminal without TIPLINE_PASSPHRASE, typing `answers` one per prompt. */
function onTerminal(args: string[], answers: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', quoted, '/dev/null'], { env: cliEnv({ TIPLINE_PROGRESS: '0', TERM: 'dumb', ...env }), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: ${output}`));
    }, 120_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const prompts = (output.match(/passphrase for [^\n]*: |Repeat it: /gi) ?? []).length;
      while (answered < prompts && answered < answers.length) child.stdin.write(`${answers[answered++]}\r`);
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, output });
    });
  });
}

t.test('typed on a terminal: the same minimum, asked twice, never echoed', { skip: hasScript ? false : 'script(1) from util-linux is not installed: no pseudo-terminal to type on' }, async (t) => {
  const short = await onTerminal(['keys', 'request', '--name', 'Typed', '--out', join(work, 'typed-short')], ['elevenchars']);
  t.equal(short.code, 2, short.output);
  t.match(short.output, /passphrase too short \(typed\): use at least 12 characters, not 11/);
  const decomposed = await onTerminal(['keys', 'request', '--name', 'Typed', '--out', join(work, 'typed-nfd')], ['e\u0301'.repeat(11)]);
  t.match(decomposed.output, /not 11/, 'counted as the key derivation sees it (NFC), as from the environment');

  const differ = await onTerminal(['keys', 'request', '--name', 'Typed', '--out', join(work, 'typed-differ')], ['twelve chars', 'twelve charz']);
  t.equal(differ.code, 2);
  t.match(differ.output, /the two passphrases differ/);

  const out = join(work, 'typed-ok');
  const ok = await onTerminal(['keys', 'request', '--name', 'Typed', '--out', out], ['twelve chars', 'twelve chars']);
  t.equal(ok.code, 0, ok.output);
  t.notMatch(ok.output, /twelve chars/, 'the passphrase is not echoed');
  t.doesNotThrow(() => openKeyFile(JSON.parse(readFileSync(join(out, 'typed.key'), 'utf8')), 'twelve chars'));

  // keys passwd typed: current, new, new again.
  const pw = await onTerminal(['keys', 'passwd', '--key', join(out, 'typed.key')], ['twelve chars', NEW, NEW]);
  t.equal(pw.code, 0, pw.output);
  t.doesNotThrow(() => openKeyFile(JSON.parse(readFileSync(join(out, 'typed.key'), 'utf8')), NEW));
});

t.test('a passphrase pasted with its repetition in one go is read as two lines', { skip: hasScript ? false : 'script(1) is not installed' }, async (t) => {
  const out = join(work, 'pasted');
  const r = await onTerminal(['keys', 'request', '--name', 'Pasted', '--out', out], [`twelve chars\rtwelve chars`]);
  t.equal(r.code, 0, r.output);
  t.ok(existsSync(join(out, 'pasted.key')));
});

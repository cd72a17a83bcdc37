// Outside review of issue 8: where a source's codename could leak on the source's own machine through the
// command line. (1) Given as an argument in any spelling (a positional word, `--codename WORDS`,
// `--codename=WORDS`): refused with the advice to use TIPLINE_CODENAME or the prompt, never echoed back; the
// `--codename=WORDS` spelling used to get node's parser message, which told the source "--codename takes a
// value" (inviting the very mistake). (2) Through a real conversation (submit --replies, replies with the right
// codename, with a mistyped one, with --out): standard output and error of `replies`, and every file the CLI
// writes (the state folder, --out), hold no two consecutive words of the codename.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliNewsroomServer } from './helpers/setup.js';
import { runCli } from './helpers/cli.js';
import { generateCodename, parseCodename } from '../crypto/codename.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();

/** Every pair of consecutive words of `codename`, as a regexp that allows any spacing or case. */
function pairs(codename: string): RegExp[] {
  const w = codename.split(' ');
  return w.slice(1).map((x, i) => new RegExp(`${w[i]}[^a-z]*${x}`, 'i'));
}
function leaks(text: string, codename: string): string[] {
  return pairs(codename).filter((re) => re.test(text)).map(String);
}
/** Every regular file under `dir`, read. */
function filesUnder(dir: string): string {
  let all = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    all += statSync(p).isDirectory() ? filesUnder(p) : readFileSync(p, 'latin1');
  }
  return all;
}

const FP = 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA';

t.test('a codename given as an argument, in any spelling, is refused and not echoed', async (t) => {
  const cn = generateCodename().text;
  const words = cn.split(' ');
  const cases: [string, string[]][] = [
    ['replies WORDS', ['replies', '--server', 'http://127.0.0.1:9', '--fingerprint', FP, ...words]],
    ['replies --codename=WORDS', ['replies', '--server', 'http://127.0.0.1:9', '--fingerprint', FP, `--codename=${cn}`]],
    ['replies --codename WORDS', ['replies', '--server', 'http://127.0.0.1:9', '--fingerprint', FP, '--codename', cn]],
    ['submit --codename WORDS', ['submit', '--server', 'http://127.0.0.1:9', '--fingerprint', FP, '-m', 'x', '--codename', ...words]],
    ['submit --codename=WORDS', ['submit', '--server', 'http://127.0.0.1:9', '--fingerprint', FP, '-m', 'x', `--codename=${cn}`]],
  ];
  for (const [what, argv] of cases) {
    const r = await runCli(argv, { timeoutMs: 30_000 });
    t.equal(r.code, 2, `${what}: a usage error`);
    t.match(r.stderr, /never given as an argument[\s\S]*TIPLINE_CODENAME/, `${what}: says how to give it instead`);
    t.notMatch(r.stderr, /takes a value/, `${what}: does not invite a value`);
    t.same(leaks(r.stdout + r.stderr, cn), [], `${what}: the codename is not echoed`);
  }
});

t.test('a conversation through the command line leaves the codename nowhere on the source’s machine', async (t) => {
  const { work, fingerprint, server } = await cliNewsroomServer(t);
  const state = mkdtempSync(join(tmpdir(), 'tipline-state-'));
  const out = join(work, 'saved');
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const env = { TIPLINE_STATE_DIR: state };
  const source = ['--server', server.url, '--fingerprint', fingerprint];
  const first = await runCli(['submit', ...source, '--replies', '-m', 'a tip'], { env });
  t.equal(first.code, 0, first.stderr);
  const codename = /^codename: ([a-z ]+)$/m.exec(first.stdout)?.[1] ?? '';
  t.ok(parseCodename(codename).ok, 'submit --replies printed a codename');

  const right = await runCli(['replies', ...source, '--out', out], { env: { ...env, TIPLINE_CODENAME: codename.toUpperCase() } });
  t.equal(right.code, 0, right.stderr);
  t.same(leaks(right.stdout + right.stderr, codename), [], 'replies (right codename): nothing of it in its output');
  const words = codename.split(' ');
  words[4] = `${words[4]}x`;
  const wrong = await runCli(['replies', ...source], { env: { ...env, TIPLINE_CODENAME: words.join(' ') } });
  t.equal(wrong.code, 2, 'a mistyped codename exits 2');
  t.same(leaks(wrong.stdout + wrong.stderr, codename), [], 'replies (mistyped): the codename is not repeated');
  const swapped = codename.split(' ');
  [swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!];
  const sw = await runCli(['replies', ...source], { env: { ...env, TIPLINE_CODENAME: swapped.join(' ') } });
  t.equal(sw.code, 2, 'two words swapped: exits 2');
  t.same(leaks(sw.stdout + sw.stderr, swapped.join(' ')), [], 'replies (swapped): the typed words are not repeated');
  t.same(leaks(filesUnder(state), codename), [], 'the state folder holds nothing of the codename');
  t.same(leaks(filesUnder(work), codename), [], 'nor the working folder (keys, --out)');
  t.ok(readdirSync(state).length > 0, 'the state folder was written (the check above looked at something)');
});

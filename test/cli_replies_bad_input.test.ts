// Mistakes around replies, through the real CLI against a real server (PGlite and PostgreSQL). A mistyped codename
// (a word not on the list, eight words, two words swapped) is told in one line, exit 2: `tipline replies` still
// makes its usual visit (the server cannot tell) but shows nothing, `tipline submit --codename` sends nothing at
// all. A desk's reply to an unknown tip, to a tip whose source did not ask for replies, or too long for a reply,
// is refused with nothing posted.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { startServer } from './helpers/server.js';
import { publishDirectory } from '../server/directory.js';
import { parseCodename } from '../crypto/codename.js';

const TIP = /tip id: ([a-z2-7]{26})/;

function oneLine(t: Test, r: CliResult, code: number, pattern: RegExp): void {
  t.equal(r.code, code, `exit ${code}`);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${r.stderr.trim()}`);
  t.match(lines[0], pattern);
  t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
}

for (const dialect of await dialects()) {
  t.test(`bad input around replies on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'tipline-replies-bad-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const keys = join(work, 'keys');
    const init = await quickKeysInit(keys);
    t.equal(init.code, 0, init.stderr);
    const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
    const deskKey = join(keys, readdirSync(keys).find((f) => f.endsWith('.key') && !['root.key', 'signing.key'].includes(f))!);
    const store = await dialect.open();
    t.teardown(() => store.drop());
    await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
    const server = await startServer({ db: store.db });
    t.teardown(() => server.close());
    const source = ['--server', server.url, '--fingerprint', fp];
    const desk = ['--server', server.staffUrl, '--key', deskKey];
    const count = async (table: 'replies' | 'tips') => Number((await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(store.db)).rows[0]!.n);
    const fetches = () => (server.logs().match(/\/api\/v1\/replies\/fetch/g) ?? []).length;

    // A source with a codename and a reply waiting (answered without --inbox: the tip is decrypted again).
    const first = await runCli(['submit', ...source, '--replies', '-m', 'a tip']);
    t.equal(first.code, 0, first.stderr);
    const codename = /^codename: ([a-z ]+)$/m.exec(first.stdout)![1]!;
    const tipWithCodename = TIP.exec(first.stdout)![1]!;
    const answered = await runCli(['reply', ...desk, tipWithCodename, '-m', 'REPLY-MARKER a question']);
    t.equal(answered.code, 0, answered.stderr);
    t.equal(await count('replies'), 1);

    const words = codename.split(' ');
    const swapped = (() => {
      for (let i = 0; i < 8; i++) {
        for (let j = i + 1; j < 9; j++) {
          if (words[i] === words[j]) continue;
          const w = [...words];
          [w[i], w[j]] = [w[j]!, w[i]!];
          if (!parseCodename(w.join(' ')).ok) return w.join(' ');
        }
      }
      throw new Error('no swap breaks the check');
    })();
    const mistakes: [string, string, RegExp][] = [
      ['a word not on the list', [...words.slice(0, 2), 'xyzzy', ...words.slice(3)].join(' '), /^tipline: mistyped codename: word 3 \("xyzzy"\) is not one of the codename words/],
      ['eight words', words.slice(0, 8).join(' '), /^tipline: mistyped codename: a codename has 9 words, this has 8/],
      ['two words swapped', swapped, /^tipline: mistyped codename: every word is a codename word, but they do not fit together: one word is wrong, or two are swapped/],
    ];
    for (const [what, typed, pattern] of mistakes) {
      await t.test(`replies, ${what}`, async (t) => {
        const before = fetches();
        const r = await runCli(['replies', ...source, '--delete'], { env: { TIPLINE_CODENAME: typed } });
        oneLine(t, r, 2, pattern);
        t.equal(r.stdout, '', 'nothing shown');
        t.equal(fetches(), before + 1, 'the usual visit was made all the same (one fetch of envelopes)');
        t.equal(await count('replies'), 1, 'nothing deleted');
      });
      await t.test(`submit --codename, ${what}`, async (t) => {
        const tips = await count('tips');
        const logged = server.logs().length;
        const r = await runCli(['submit', ...source, '--codename'], { env: { TIPLINE_CODENAME: typed }, input: 'a follow-up' });
        oneLine(t, r, 2, new RegExp(`${pattern.source}.*; nothing was sent$`));
        t.equal(r.stdout, '', 'no receipt');
        t.equal(await count('tips'), tips, 'no tip stored');
        t.equal(server.logs().length, logged, 'not a single request reached the server');
      });
    }
    // The real codename still reads the reply: none of the above changed anything.
    const good = await runCli(['replies', ...source], { env: { TIPLINE_CODENAME: codename } });
    t.equal(good.code, 0, good.stderr);
    t.match(good.stdout, /REPLY-MARKER a question/);

    await t.test('reply to an unknown tip', async (t) => {
      const r = await runCli(['reply', ...desk, 'a'.repeat(26), '-m', 'hello']);
      oneLine(t, r, 1, /^tipline: no such tip: a{26} is not on the server/);
      t.equal(await count('replies'), 1, 'nothing posted');
    });

    await t.test('a reply too long', async (t) => {
      const r = await runCli(['reply', ...desk, tipWithCodename], { input: 'x'.repeat(70_000) });
      oneLine(t, r, 2, /^tipline: the reply is too long: at most about 64 KB of text \(this is 70000 bytes\)/);
      t.equal(await count('replies'), 1, 'nothing posted');
    });

    await t.test('reply to a tip whose source did not ask for replies', async (t) => {
      const plain = await runCli(['submit', ...source, '-m', 'no codename here']);
      t.equal(plain.code, 0, plain.stderr);
      const id = TIP.exec(plain.stdout)![1]!;
      const downloaded = await runCli(['reply', ...desk, id, '-m', 'hello']);
      oneLine(t, downloaded, 1, /^tipline: this source did not ask for replies/);
      const inbox = join(work, 'inbox');
      t.equal((await runCli(['fetch', ...desk, '--out', inbox])).code, 0);
      const fromInbox = await runCli(['reply', ...desk, '--inbox', inbox, id, '-m', 'hello']);
      oneLine(t, fromInbox, 1, /^tipline: this source did not ask for replies/);
      t.equal(await count('replies'), 1, 'nothing posted');
    });

    await t.test('a reply field that would expose the reply is refused', async (t) => {
      // Hand-edited inbox manifests: a small-order reply key (all zeros) and a tag key that is not 32 bytes.
      const inbox = join(work, 'inbox-edited');
      const edit = (reply: { box_key: string; mailbox: string }) => {
        mkdirSync(join(inbox, tipWithCodename), { recursive: true });
        writeFileSync(join(inbox, tipWithCodename, 'manifest.json'), JSON.stringify({ tip_id: tipWithCodename, reply }));
      };
      const goodMailbox = Buffer.alloc(32, 7).toString('base64');
      edit({ box_key: Buffer.alloc(32).toString('base64'), mailbox: goodMailbox });
      const weak = await runCli(['reply', ...desk, '--inbox', inbox, tipWithCodename, '-m', 'hello']);
      oneLine(t, weak, 1, /^tipline: tip [a-z2-7]{26}: its reply key is a weak \(small-order\) key/);
      edit({ box_key: Buffer.alloc(32, 9).toString('base64'), mailbox: Buffer.alloc(16, 7).toString('base64') });
      const shortTag = await runCli(['reply', ...desk, '--inbox', inbox, tipWithCodename, '-m', 'hello']);
      oneLine(t, shortTag, 1, /^tipline: tip [a-z2-7]{26}: its reply mailbox is not a 32-byte tag key; no reply was sent/);
      t.equal(await count('replies'), 1, 'nothing posted');
    });
  });
}

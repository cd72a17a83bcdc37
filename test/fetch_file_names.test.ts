// File names in a tip's manifest are written by a stranger: `tipline fetch` must neutralise them, keep them
// apart, and do so in time linear in their number (issue 7: 32,000 copies of one name took 190 s of CPU).
import t from 'tap';
import { safeFileNames } from '../client/cli/filenames.js';

t.test('hostile names cannot climb out, hide, or carry control characters', async (t) => {
  const out = safeFileNames(['../../etc/passwd', '.bashrc', 'a\u202Etxt.exe', 'CON.txt', 'x\u0007y', '', '   ']);
  t.same(out, ['_.._etc_passwd', 'bashrc', 'atxt.exe', '_CON.txt', 'x_y', 'file-6', 'file-7']);
  for (const n of out) t.notMatch(n, /[/\\\u0000-\u001f]/, `${n}: no separator or control character`);
});

t.test('duplicates are numbered, whatever the case, without colliding with names already taken', async (t) => {
  t.same(safeFileNames(['a.txt', 'A.txt', 'a (2).txt', 'a.txt', 'b']), ['a.txt', 'A (2).txt', 'a (2) (2).txt', 'a (3).txt', 'b']);
  t.same(safeFileNames(['b', 'b', 'b (2)', 'b']), ['b', 'b (2)', 'b (2) (2)', 'b (3)']);
});

// A guard against the quadratic case coming back (tap fails the test past its timeout); speed itself is the
// bench's business.
t.test('32,000 copies of one name are named in linear time', { timeout: 30_000 }, async (t) => {
  const names = safeFileNames(Array.from({ length: 32_000 }, () => 'report.pdf'));
  t.equal(new Set(names.map((n) => n.toLowerCase())).size, 32_000, 'every name distinct');
  t.equal(names[0], 'report.pdf');
  t.equal(names[31_999], 'report (32000).pdf');
});

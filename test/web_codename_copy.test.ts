// The page's checks that need no browser: a codename typed back from paper is compared word by word with the
// one shown (the same tolerance as parseCodename: case, spacing, punctuation, accents, four-letter prefixes),
// and files are named as risky by their type (PDF, office and ODF documents, photos that will not be cleaned).
import t from 'tap';
import { compareCopy } from '../client/web/codename-copy.js';
import { riskOf } from '../client/web/composer.js';
import { generateCodename, parseCodename } from '../crypto/codename.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();

t.test('a copy that reads as the codename passes, however it is typed', async (t) => {
  for (let i = 0; i < 50; i++) {
    const words = generateCodename().words;
    for (const typed of [words.join(' '), ` ${words.join('  ,  ').toUpperCase()} `, words.map((w) => w.slice(0, 4)).join('-'), words.join('\n')]) {
      t.equal(compareCopy(typed, words), undefined, typed);
      // Whatever compareCopy accepts, parseCodename reads as the same codename (the worker checks both).
      const parsed = parseCodename(typed);
      t.ok(parsed.ok && parsed.codename.words.join(' ') === words.join(' '), 'parseCodename agrees');
    }
  }
});

t.test('a wrong copy names the first word that differs, or the count', async (t) => {
  const words = generateCodename().words;
  for (let p = 0; p < words.length; p++) {
    const wrong = [...words];
    wrong[p] = words[p] === 'zoo' ? 'abandon' : 'zoo';
    t.same(compareCopy(wrong.join(' '), words), { kind: 'word', position: p + 1 }, `word ${p + 1}`);
  }
  t.same(compareCopy(words.slice(1).join(' '), words), { kind: 'count', count: 8 }, 'a word left out');
  t.same(compareCopy([...words, 'zoo'].join(' '), words), { kind: 'count', count: 10 }, 'a word too many');
  t.same(compareCopy('', words), { kind: 'count', count: 0 }, 'nothing typed');
  const short = [...words];
  short[2] = words[2]!.slice(0, 3);
  if (short[2] !== words[2]) t.same(compareCopy(short.join(' '), words), { kind: 'word', position: 3 }, 'three letters are not enough to stand for a word');
});

t.test('files named as risky by type', async (t) => {
  t.equal(riskOf('Report.PDF', true), 'pdf');
  for (const n of ['a.docx', 'a.doc', 'b.xlsx', 'c.pptx', 'd.odt', 'e.ods', 'f.odp', 'g.rtf']) t.equal(riskOf(n, true), 'office', n);
  t.equal(riskOf('IMG_1.jpg', true), undefined, 'a JPEG that will be cleaned');
  t.equal(riskOf('IMG_1.jpg', false), 'photoKept', 'a JPEG that will not');
  t.equal(riskOf('shot.png', false), 'photoKept');
  t.equal(riskOf('IMG_2.HEIC', true), 'photoUncleanable', 'a photo format the page cannot clean');
  t.equal(riskOf('clip.mov', true), 'media');
  for (const n of ['notes.txt', 'data.csv', 'noextension', 'archive.zip']) t.equal(riskOf(n, false), undefined, n);
});

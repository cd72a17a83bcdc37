// Compares a codename typed back from paper with the one shown, to say which word differs: "word 4" helps a
// source more than "wrong". The same tolerance as parseCodename (crypto/codename.ts): any case, spacing,
// punctuation and accents, and a word may be cut after its first four letters. Pure.
import type { CopyProblem } from './protocol.js';
import { codenameTokens } from '../../crypto/codename.js';

const tokens = codenameTokens;

const sameWord = (typed: string, word: string) => typed === word || (typed.length >= 4 && word.startsWith(typed));

/** Undefined when the copy reads as the codename `words`; otherwise the first thing that differs. */
export function compareCopy(typed: string, words: readonly string[]): CopyProblem | undefined {
  const got = tokens(typed);
  // A missing or extra word shifts every word after it: the count says more than "word 5".
  if (got.length !== words.length) return { kind: 'count', count: got.length };
  const i = got.findIndex((t, i) => !sameWord(t, words[i]!));
  return i < 0 ? undefined : { kind: 'word', position: i + 1 };
}

// The known-answer vectors of codenames, reply tags and replies (crypto/PROTOCOL.md §Codenames, §Reply tags,
// §Replies): their inputs, and the code that turns them into test/vectors/replies.json. Shared by
// generate-replies.ts (writes the file) and check.ts (regenerates and compares, in Node and in the browsers).
// Every input is in the file (random bytes, fingerprints, seeds, clocks), so another implementation needs nothing
// else. The codename keys use a low PBKDF2 cost, except one vector at the full cost (1,000,000 iterations).
import { CODENAME_KDF_ITERATIONS, deriveCodenameKeys, generateCodename, parseCodename, type CodenameProblem } from '../../crypto/codename.js';
import { fromHex, toHex, utf8Encode } from '../../crypto/bytes.js';
import { fingerprint } from '../../crypto/keys.js';
import { makeReplyTag } from '../../crypto/reply-tags.js';
import { REPLY_ENVELOPE_LENGTH, sealReply } from '../../crypto/reply.js';
import { sodium } from '../../crypto/sodium.js';
import { fixedRandom } from './helpers.js';

export const REPLIES_VECTORS_VERSION = 1;

/** Deterministic bytes named by a label (only the generator needs this: the file holds every value it makes). */
export function repliesLabel(label: string, n = 32): Uint8Array {
  const seed = sodium().crypto_generichash(32, utf8Encode(`tipline replies test vector: ${label}`), null);
  return n === 32 ? seed : sodium().randombytes_buf_deterministic(n, seed);
}

export interface CodenameVector {
  name: string;
  /** the 11 bytes generateCodename draws */
  random: string;
  indices: number[];
  text: string;
  /** other spellings a person may type, each read as `text` */
  typed: string[];
  root_fingerprint: string;
  iterations: number;
  /** the derived keys, hex */
  box_public: string;
  box_secret: string;
  tag_key: string;
}

export interface CodenameProblemVector {
  typed: string;
  problem: CodenameProblem;
}

export interface TagVector {
  name: string;
  tag_key: string;
  /** the 8 bytes r */
  random: string;
  tag: string;
}

export interface TagListVector {
  name: string;
  tag_key: string;
  /** tags end to end, hex */
  list: string;
  own: number[];
}

export interface ReplyVector {
  name: string;
  box_public: string;
  box_secret: string;
  desk_sign_seed: string;
  desk_sign_public: string;
  message: string;
  now: string;
  /** every random byte sealReply draws, in order: deletion token (32), envelope key K (32), ephemeral seed (32) */
  random: string;
  sent_day: string;
  delete_token: string;
  delete_hash: string;
  length: number;
  envelope: string;
}

export interface RepliesFile {
  version: number;
  codenames: CodenameVector[];
  codename_problems: CodenameProblemVector[];
  tags: TagVector[];
  tag_lists: TagListVector[];
  replies: ReplyVector[];
}

function rootFingerprint(label: string): string {
  return fingerprint(sodium().crypto_sign_seed_keypair(repliesLabel(label)).publicKey);
}

const spellings = (words: string[]) => [
  `  ${words.map((w) => w.toUpperCase()).join(',  ')}. `,
  words.map((w) => w.slice(0, 4)).join('\n'),
  words.map((w) => w.replace(/[aeiou]/, (v) => `${v}\u0301`)).join(' - '),
];

async function codenameVector(name: string, random: Uint8Array, fp: string, iterations: number): Promise<CodenameVector> {
  const c = generateCodename(() => random.slice());
  const k = await deriveCodenameKeys(c, fp, iterations);
  return {
    name,
    random: toHex(random),
    indices: c.indices,
    text: c.text,
    typed: spellings(c.words),
    root_fingerprint: fp,
    iterations,
    box_public: toHex(k.boxPublic),
    box_secret: toHex(k.boxSecret),
    tag_key: toHex(k.tagKey),
  };
}

export async function buildRepliesFile(): Promise<RepliesFile> {
  const fpA = rootFingerprint('root A');
  const fpB = rootFingerprint('root B');
  const codenames = [
    await codenameVector('all-zero random bytes', new Uint8Array(11), fpA, 1000),
    await codenameVector('all-one random bytes', new Uint8Array(11).fill(0xff), fpA, 1000),
    await codenameVector('labelled random bytes', repliesLabel('codename 1', 11), fpA, 1000),
    await codenameVector('the same words at another tip line (salt)', repliesLabel('codename 1', 11), fpB, 1000),
    await codenameVector('full cost (1,000,000 iterations)', repliesLabel('codename 2', 11), fpA, CODENAME_KDF_ITERATIONS),
  ];
  const words = codenames[2]!.text.split(' ');
  const problem = (typed: string): CodenameProblemVector => {
    const p = parseCodename(typed);
    if (p.ok) throw new Error(`replies vectors: "${typed}" was expected to be mistyped`);
    return { typed, problem: p.problem };
  };
  const swapped = [...words];
  [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
  const codename_problems = [
    problem([...words.slice(0, 4), 'zebrafish', ...words.slice(5)].join(' ')),
    problem(words.slice(0, 8).join(' ')),
    problem([...words, 'abandon'].join(' ')),
    problem(swapped.join(' ')),
  ];

  const tagKey = (i: number) => fromHex(codenames[i]!.tag_key);
  const tags: TagVector[] = [];
  for (const [name, r] of [
    ['r = 0', new Uint8Array(8)],
    ['labelled r', repliesLabel('tag r', 8)],
  ] as const) {
    tags.push({ name, tag_key: toHex(tagKey(2)), random: toHex(r), tag: toHex(await makeReplyTag(tagKey(2), () => r.slice())) });
  }
  // Own tags at the first, a middle and the last position; another source's tags and random blocks elsewhere.
  const list: Uint8Array[] = [];
  const own: number[] = [];
  for (let i = 0; i < 8; i++) {
    const r = repliesLabel(`list r ${i}`, 8);
    if (i === 0 || i === 4 || i === 7) {
      own.push(i);
      list.push(await makeReplyTag(tagKey(2), () => r));
    } else if (i % 2 === 1) list.push(await makeReplyTag(tagKey(3), () => r));
    else list.push(repliesLabel(`list block ${i}`, 16));
  }
  const tag_lists: TagListVector[] = [{ name: 'own at 0, 4 and 7 among another source\'s tags and random blocks', tag_key: toHex(tagKey(2)), list: list.map(toHex).join(''), own }];

  const replies: ReplyVector[] = [];
  const to = { pub: codenames[2]!.box_public, sec: codenames[2]!.box_secret };
  const deskSeed = repliesLabel('desk');
  const desk = sodium().crypto_sign_seed_keypair(deskSeed);
  for (const [name, message, now] of [['a short reply', 'Thank you — could you send the second page? «Merci»', '2026-11-26T12:34:56Z']] as const) {
    const random = repliesLabel(`reply random ${name}`, 96);
    const sealed = await sealReply({
      toBoxKey: fromHex(to.pub),
      message,
      desk: { signPublic: desk.publicKey, signSecret: desk.privateKey },
      now: new Date(now),
      random: fixedRandom(random),
    });
    replies.push({
      name,
      box_public: to.pub,
      box_secret: to.sec,
      desk_sign_seed: toHex(deskSeed),
      desk_sign_public: toHex(desk.publicKey),
      message,
      now,
      random: toHex(random),
      sent_day: now.slice(0, 10),
      delete_token: toHex(random.subarray(0, 32)),
      delete_hash: toHex(sealed.deleteHash),
      length: sealed.envelope.length,
      envelope: toHex(sealed.envelope),
    });
  }
  if (replies.some((r) => r.length !== REPLY_ENVELOPE_LENGTH)) throw new Error('replies vectors: a reply of another length');
  return { version: REPLIES_VECTORS_VERSION, codenames, codename_problems, tags, tag_lists, replies };
}

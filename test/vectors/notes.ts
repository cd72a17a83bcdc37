// Known-answer vectors of desk note envelopes (crypto/FORMAT.md §Desk notes): their inputs, and the code that turns
// them into test/vectors/notes.json. Shared by generate-notes.ts (writes the file) and crypto_desk_notes.test.ts
// (regenerates and compares, and opens each with the recipients' secrets). Every input is in the file.
import { toHex, utf8Encode } from '../../crypto/bytes.js';
import { sealNote, type NoteOp } from '../../crypto/desk-notes.js';
import { sodium } from '../../crypto/sodium.js';
import { fixedRandom } from './helpers.js';

export interface NoteVector {
  name: string;
  op: NoteOp;
  /** X25519 secret keys of the recipients, hex, in stanza order */
  recipient_secrets: string[];
  /** Ed25519 seed of the signer, hex */
  signer_seed: string;
  /** K (32 bytes), then one ephemeral seed (32 bytes) per recipient, hex */
  random: string;
  envelope: string;
}

function label(l: string, n = 32): Uint8Array {
  const seed = sodium().crypto_generichash(32, utf8Encode(`tipline notes test vector: ${l}`), null);
  return n === 32 ? seed : sodium().randombytes_buf_deterministic(n, seed);
}

const OPS: { name: string; op: NoteOp; recipients: number }[] = [
  {
    name: 'status, one desk',
    recipients: 1,
    op: { v: 1, op: 'AAECAwQFBgcICQoLDA0ODw', thread: 'tip:abcdefghijklmnopqrstuvwxyz', by: 'Desk A', at: '2026-11-27T01:00:00.000Z', clock: 1, kind: 'status', status: 'in-progress' },
  },
  {
    name: 'note, three desks, non-ASCII',
    recipients: 3,
    op: { v: 1, op: 'EBESExQVFhcYGRobHB0eHw', thread: 'q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k', by: 'María López', at: '2026-11-27T01:02:03.000Z', clock: 7, kind: 'note', text: 'Llamó la fuente.\n\tVer el PDF — ünïcødé 🙂', supersedes: ['AAECAwQFBgcICQoLDA0ODw'] },
  },
];

/** Builds the vectors (the JSON written to test/vectors/notes.json). */
export function buildNotesFile(): { v: 1; vectors: NoteVector[] } {
  const vectors = OPS.map(({ name, op, recipients }) => {
    const secrets = Array.from({ length: recipients }, (_, i) => label(`${name} recipient ${i}`));
    const seed = label(`${name} signer`);
    const random = label(`${name} random`, 32 + 32 * recipients);
    const kp = sodium().crypto_sign_seed_keypair(seed);
    const envelope = sealNote(op, secrets.map((s) => sodium().crypto_scalarmult_base(s)), { signPublic: kp.publicKey, signSecret: kp.privateKey }, fixedRandom(random));
    return { name, op, recipient_secrets: secrets.map(toHex), signer_seed: toHex(seed), random: toHex(random), envelope: toHex(envelope) };
  });
  return { v: 1, vectors };
}


// `tipline audit` fails, naming the cause, when what a real deployment publishes is wrong: a signature corrupted
// (the stored policy's signature byte flipped: the server stops serving it, and the database check says why), a
// stale warrant canary, and a desk key listed although it began longer ago than tips are kept.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployment, lines, PASSPHRASE } from './helpers/audit-deployment.js';
import { openKeyFile } from '../crypto/keyfile.js';
import { signCanary, validateCanary } from '../crypto/canary.js';
import { readCertificate, signDirectory, verifyDirectory, type Directory } from '../crypto/directory.js';
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import type { SignedDocument } from '../crypto/signed.js';

const DAY = 86_400_000;

t.test('a corrupted signature', { timeout: 600_000 }, async (t) => {
  const d = await deployment(t, { tip: false });
  const [row] = await d.sql("select body from documents where kind = 'policy'");
  const body = String(row!.body);
  const doc = JSON.parse(body) as SignedDocument;
  const sig = fromBase64(doc.signature);
  sig[10] = sig[10]! ^ 0x01;
  await d.sql("update documents set body = $1 where kind = 'policy'", [JSON.stringify({ ...doc, signature: toBase64(sig) })]);
  const r = await d.audit();
  t.equal(r.code, 1);
  const l = lines(r.stdout);
  t.equal(l['stored-documents']?.status, 'FAIL');
  t.match(l['stored-documents']?.detail, /the policy stored in the database does not verify: .*bad signature/);
  t.equal(l.policy?.status, 'FAIL', 'and the policy is no longer served');
  await d.sql("update documents set body = $1 where kind = 'policy'", [body]);
  const again = await d.audit();
  t.equal(again.code, 0, `passes once restored:\n${again.stdout}`);
});

t.test('a stale canary', { timeout: 600_000 }, async (t) => {
  const d = await deployment(t, {
    tip: false,
    beforeStart(keys) {
      // Signed now, expired a second later: the server publishes it (a stale canary is shown, not hidden).
      const cert = JSON.parse(readFileSync(join(keys, 'signing-certificate.json'), 'utf8')) as SignedDocument;
      const issued = Math.floor(Date.now() / 1000);
      const canary = validateCanary({ v: 1, serial: issued, issued: new Date(issued * 1000).toISOString(), expires: new Date(issued * 1000 + 1000).toISOString(), statement: 'No secret order has been received.' });
      writeFileSync(join(keys, 'canary.json'), JSON.stringify(signCanary(canary, cert, signerOf(keys))));
    },
  });
  await new Promise((r) => setTimeout(r, 1500));
  const r = await d.audit();
  t.equal(r.code, 1);
  const l = lines(r.stdout).canary;
  t.equal(l?.status, 'FAIL');
  t.match(l?.detail, new RegExp(`stale since ${new Date().toISOString().slice(0, 10)}`));
});

t.test('a desk key older than the retention period still listed', { timeout: 600_000 }, async (t) => {
  const d = await deployment(t, {
    tip: false,
    async beforeStart(keys, fp) {
      const cert = JSON.parse(readFileSync(join(keys, 'signing-certificate.json'), 'utf8')) as SignedDocument;
      const current = verifyDirectory(JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), fp, new Date());
      // The directory is issued now (within the signing key's certificate); only the desk's key is old.
      await new Promise((r) => setTimeout(r, 1100));
      const now = Date.now();
      const certEnd = Date.parse(readCertificate(cert, fp).not_after);
      const dir: Directory = {
        v: 2,
        serial: Math.max(current.serial + 1, Math.floor(now / 1000)),
        issued: new Date(now).toISOString(),
        expires: new Date(Math.min(now + 7 * DAY, certEnd)).toISOString(),
        recipients: current.recipients.map((r) => (r.role === 'desk' ? { ...r, not_before: new Date(now - 40 * DAY).toISOString() } : r)),
      };
      writeFileSync(join(keys, 'directory.json'), JSON.stringify(signDirectory(dir, cert, signerOf(keys))));
    },
  });
  const r = await d.audit();
  t.equal(r.code, 1);
  const l = lines(r.stdout)['desk-keys'];
  t.equal(l?.status, 'FAIL');
  t.match(l?.detail, /desk "Desk One": its key began \d{4}-\d{2}-\d{2}, 40 days ago, more than the 30 days tips are kept/);
});

function signerOf(keys: string) {
  const k = openKeyFile(JSON.parse(readFileSync(join(keys, 'signing.key'), 'utf8')), PASSPHRASE);
  return { publicKey: k.public.sign!, secretKey: k.secret.sign! };
}

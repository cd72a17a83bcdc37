// A root-signed policy naming a table "constructor" or "__proto__" made storedDifferences read Object.prototype
// and throw a TypeError ("have.includes is not a function") instead of saying what differs; and line or paragraph
// separators (U+2028/U+2029) and private-use characters in the words the page and the audit report show passed
// the "printable" check (they break lines in a terminal report like a newline would).
import t from 'tap';
import { makePolicy, storedDifferences, validatePolicy, DEFAULT_KEYS } from '../crypto/policy.js';
import { makeCanary } from '../crypto/canary.js';
import { STORED_COLUMNS } from '../schema/db.js';

t.test('hostile table names are compared as names, never as Object.prototype members', async (t) => {
  const now = new Date('2026-03-01T13:37:11Z');
  for (const name of ['constructor', '__proto__', 'hasownproperty', 'tostring']) {
    const p = validatePolicy(JSON.parse(JSON.stringify(makePolicy({ now, stored: STORED_COLUMNS }))));
    const hostile = { ...p, stored: JSON.parse(`{${Object.entries(STORED_COLUMNS).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')},${JSON.stringify(name)}:["x"]}`) as Record<string, string[]> };
    let out: string[] = [];
    t.doesNotThrow(() => (out = storedDifferences(validatePolicy(hostile), STORED_COLUMNS)), `a policy table "${name}" does not throw`);
    t.same(out, [`table ${name}, in the policy, does not exist`], `"${name}" is reported as a table that does not exist`);
    // And the other way round: an actual table the policy does not name is not found on Object.prototype.
    t.same(storedDifferences(p, { ...STORED_COLUMNS, constructor: ['x'] } as unknown as Record<string, readonly string[]>), ['table constructor is not in the policy']);
  }
});

t.test('line and paragraph separators and private-use characters are not printable', async (t) => {
  const now = new Date('2026-03-01T13:37:11Z');
  for (const ch of ['\u2028', '\u2029', '\ue000']) {
    const keys = DEFAULT_KEYS.map((k, i) => (i === 0 ? { ...k, holder: `the newsroom${ch}FAKE: the server holds the root` } : { ...k }));
    t.throws(() => makePolicy({ now, stored: STORED_COLUMNS, keys }), /printable/, `U+${ch.codePointAt(0)!.toString(16)} in a key holder is refused`);
    t.throws(() => makeCanary(now, 14, 0, `No orders.${ch}(forged second line)`), /printable/, `U+${ch.codePointAt(0)!.toString(16)} in a canary statement is refused`);
  }
});

// The newsroom's signed retention policy and warrant canary, in plain words above the form. The page fetches
// both at once as soon as it runs, alongside the worker's script (no extra round trip on the way to a verified
// page); the worker verifies them under the fingerprint, and only then does a number show (threat: a server, or
// anyone in its path, advertising a shorter retention or a fresh canary the newsroom never signed). Everything
// goes in by textContent: the holders' words are the newsroom's signed text, never markup.
import type { Strings } from './strings/index.js';
import type { Fetched, ShownCanary, ShownPolicy } from './protocol.js';
import { $, dayFormatter, fill, showDay } from './format.js';
import { ask, forget } from './worker-client.js';

const JOB = 'documents';
/** Far above any valid policy or canary (a policy is a few kilobytes); a larger answer is not one. */
const LIMIT = 256 * 1024;

async function get(path: string): Promise<Fetched> {
  try {
    const res = await fetch(path, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer', signal: AbortSignal.timeout(120_000) });
    if (res.status === 404) return { state: 'missing' };
    if (!res.ok) return { state: 'failed' };
    const text = await res.text();
    if (text.length > LIMIT) return { state: 'failed' };
    return { state: 'found', doc: JSON.parse(text) as unknown };
  } catch {
    return { state: 'failed' };
  }
}

/** Both documents, fetched in parallel (same origin, no cookies, no referrer, nothing cached). */
export function fetchDocuments(): Promise<[Fetched, Fetched]> {
  return Promise.all([get('/.well-known/tipline/policy'), get('/.well-known/tipline/canary')]);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, lang?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (lang) e.lang = lang;
  return e;
}

export class PolicyView {
  private readonly plural: Intl.PluralRules;
  private readonly day: (d: string) => string;

  constructor(private readonly s: Strings) {
    this.plural = new Intl.PluralRules(s.lang);
    this.day = dayFormatter(s.lang);
  }

  /** A count in words: "12 days", "12 días", "12 Tage". */
  private count(forms: Record<string, string>, n: number): string {
    return fill(forms[this.plural.select(n)] ?? forms.other!, { n });
  }

  /** Shows "checking…", fetches both documents at once, and has the worker verify them. */
  start(fingerprint: string): void {
    $('policy').hidden = false;
    $('policy-status').textContent = this.s.policy.checking;
    void fetchDocuments().then(([policy, canary]) => {
      ask({ type: 'documents', job: JOB, fingerprint, policy, canary }, (ev) => {
        if (ev.type === 'documents') {
          forget(JOB);
          this.show(ev.policy, ev.canary);
        } else if (ev.type === 'error') {
          // The crypto code could not run or load: nothing could be verified, so nothing is shown as verified.
          forget(JOB);
          this.show({ state: 'invalid' }, { state: 'unchecked' });
        }
      }, { background: true });
    });
  }

  show(policy: ShownPolicy, canary: ShownCanary): void {
    $('policy-status').textContent = '';
    this.showPolicy(policy);
    this.showCanary(canary);
  }

  private showPolicy(shown: ShownPolicy): void {
    const p = this.s.policy;
    if (shown.state !== 'ok') {
      const problem = $('policy-problem');
      problem.textContent = `⚠ ${shown.state === 'missing' ? p.missing : p.invalid}`;
      problem.hidden = false;
      return;
    }
    const { retention, stored, logged, keys, key_period_days } = shown.policy;
    const summary = $('policy-summary');
    summary.textContent = fill(p.summary, { tips: this.count(p.days, retention.tips_days), replies: this.count(p.days, retention.replies_days) });
    summary.hidden = false;
    const list = $('policy-stored');
    // In the order of this page's words (the source's own data first), tables it has no words for last.
    const known = Object.keys(p.tables);
    const rank = (table: string) => (known.includes(table) ? known.indexOf(table) : known.length);
    for (const [table, cols] of Object.entries(stored).sort(([a], [b]) => rank(a) - rank(b))) {
      // The words are this page's; the names after them are the signed policy's, for the technical reader.
      const li = el('li', `${Object.hasOwn(p.tables, table) ? p.tables[table] : p.otherTable} `);
      li.append(el('code', `${table}: ${cols.join(', ')}`));
      list.append(li);
    }
    $('policy-uploads').textContent = fill(p.uploads, { hours: this.count(p.hours, retention.uploads_hours) });
    $('policy-period').textContent = fill(p.keyPeriod, { period: this.count(p.days, key_period_days) });
    $('policy-logged').textContent = logged.join(', ');
    const dl = $('policy-keys');
    for (const k of keys) {
      dl.append(el('dt', Object.hasOwn(p.roles, k.role) ? p.roles[k.role] : k.role));
      for (const [label, words] of [
        [p.heldBy, k.holder],
        [p.can, k.can],
      ] as const) {
        const dd = el('dd', `${label} `);
        dd.append(el('span', words, 'en'));
        dl.append(dd);
      }
    }
    $('policy-details').hidden = false;
  }

  private showCanary(shown: ShownCanary): void {
    const c = this.s.canary;
    const line = $('canary');
    const alert = $('canary-alert');
    if (shown.state === 'ok' && !shown.stale) {
      // "signed <time>, renewed by <time>": the days in <time> elements, the sentence around them from the strings.
      line.replaceChildren();
      const parts = c.ok.split(/(\{issued\}|\{expires\})/);
      for (const part of parts) {
        if (part === '{issued}' || part === '{expires}') {
          const t = el('time');
          t.id = part === '{issued}' ? 'canary-issued' : 'canary-expires';
          showDay(t, part === '{issued}' ? shown.issuedDay : shown.expiresDay, this.day);
          line.append(t);
        } else if (part) line.append(part);
      }
      line.hidden = false;
    } else if (shown.state === 'ok') {
      alert.textContent = `⚠ ${fill(c.stale, { issued: this.day(shown.issuedDay) })}`;
      alert.hidden = false;
    } else if (shown.state === 'invalid') {
      alert.textContent = `⚠ ${c.invalid}`;
      alert.hidden = false;
    } else {
      line.textContent = shown.state === 'missing' ? c.missing : c.unchecked;
      line.hidden = false;
    }
    if (shown.state === 'ok') {
      $('canary-statement').textContent = shown.statement;
      $('canary-details').hidden = false;
    }
  }
}

// The report an auditor files: one self-contained HTML page, readable by a lawyer. Inline CSS only; no script,
// no image, no font, nothing fetched (threat: a report opened later must not call out to anyone, nor change).
// Every value from the server is escaped; each result is said in words, never by colour alone.
import { displayFingerprint } from '../../../crypto/keys.js';
import { CHECKS, type Report } from './types.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const WORD = { PASS: 'PASS', FAIL: 'FAIL', SKIP: 'SKIP' } as const;
const SAYS = { PASS: 'passed', FAIL: 'failed', SKIP: 'not checked' } as const;

const CSS = `
:root { color-scheme: light; }
body { font: 16px/1.5 Georgia, "Times New Roman", serif; color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
h3 { font-size: 1.05rem; margin: 0 0 .35rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 1rem 0; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.verdict { border: 3px solid; padding: .75rem 1rem; font-size: 1.1rem; margin: 1.25rem 0; }
.verdict.ok { border-color: #1d6b2f; background: #eef7f0; }
.verdict.bad { border-color: #a4161a; background: #fbeeee; }
ol.checks { list-style: none; padding: 0; margin: 0; }
ol.checks > li { border: 1px solid #999; border-left-width: 8px; padding: .75rem 1rem; margin: 0 0 .75rem; break-inside: avoid; }
ol.checks > li.PASS { border-left-color: #1d6b2f; }
ol.checks > li.FAIL { border-left-color: #a4161a; background: #fdf6f6; }
ol.checks > li.SKIP { border-left-color: #595959; }
.status { display: inline-block; min-width: 3.2rem; font: bold .9rem/1.4 Arial, Helvetica, sans-serif; padding: 0 .4rem; margin-right: .5rem; text-align: center; color: #fff; }
.status.PASS { background: #1d6b2f; }
.status.FAIL { background: #a4161a; }
.status.SKIP { background: #595959; }
p { margin: .35rem 0; }
.detail { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .88rem; overflow-wrap: anywhere; }
.label { font-weight: bold; }
footer { margin-top: 2rem; font-size: .9rem; color: #333; }
@media print { main { padding: 0; } }
`;

export function reportHtml(r: Report): string {
  const ok = r.summary.fail === 0;
  const items = r.checks
    .map((c) => {
      const meaning = CHECKS[c.id].meaning;
      return `<li class="${c.status}">
<h3><span class="status ${c.status}">${WORD[c.status]}</span> ${esc(c.title)}</h3>
<p><span class="label">Result:</span> ${SAYS[c.status]}. <span class="label">Check:</span> <code>${esc(c.id)}</code></p>
<p class="detail">${esc(c.detail)}</p>
${c.status === 'FAIL' ? `<p><span class="label">What this failure means:</span> ${esc(meaning)}</p>` : `<p><span class="label">A failure would mean:</span> ${esc(meaning)}</p>`}
</li>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>Tip line audit, ${esc(r.checked_at)}: ${ok ? 'all checks passed' : `${r.summary.fail} failed`}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>Audit of a tip line</h1>
<dl class="facts">
<dt>Tip line (root key fingerprint)</dt><dd>${esc(displayFingerprint(r.tipline))}</dd>
<dt>Address checked</dt><dd>${esc(r.server)}</dd>
<dt>Day of the audit (UTC)</dt><dd>${esc(r.checked_at)}</dd>
<dt>Results</dt><dd>${r.summary.pass} passed, ${r.summary.fail} failed, ${r.summary.skip} not checked</dd>
</dl>
<p class="verdict ${ok ? 'ok' : 'bad'}">${ok ? 'Every check that was run passed.' : `<strong>${r.summary.fail} check${r.summary.fail === 1 ? '' : 's'} failed.</strong> The tip line does not do everything its signed policy promises; each failure below says what was found and what it means.`}</p>
<p>This report was made by <code>tipline audit</code>, which checks what a tip line's operator promises against what the system does: which data it stores and for how long, who can read it, that deletions are recorded, and that the documents it publishes are signed by the newsroom's key (identified by the fingerprint above, obtained from the newsroom directly). "Not checked" means the auditor did not give what that check needs, such as read access to the database.</p>
<h2>The checks</h2>
<ol class="checks">
${items}
</ol>
<footer><p>The same results are available as text (<code>tipline audit</code>) and as JSON (<code>--format json</code>). A check that passes shows what was found at the time of the audit; it does not prove what happened between audits, except where the audit log and the heads kept from earlier audits show it.</p></footer>
</main>
</body>
</html>
`;
}

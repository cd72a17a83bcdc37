// The page's HTML, one file per language, rendered at build time. It is complete without JavaScript: at
// Tor Browser's "Safest" level the explanation shows and the form stays hidden, so nothing can be posted.
// #error sits after the form, not in it: it must also show when the form never appears (a page served without
// its fingerprint), and in the flow it lands just under the send button, where the eye is after pressing it.
// With no newsroom keys published the server leaves the fingerprint empty: #not-ready replaces the fingerprint
// and the form, shown by the script and, with JavaScript off, by the stylesheet (#fingerprint:empty).
// The tip form and the follow-up form are one composer rendered twice (ids prefixed "followup-" for the second),
// driven by client/web/composer.ts; so are the two receipts.
import type { Strings } from './strings/index.js';
import { LANGUAGES } from './strings/index.js';
import { FINGERPRINT_SLOT } from '../../schema/page.js';

export { FINGERPRINT_SLOT };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One option to a line, with shell continuations: readable on a phone, and still pastes as one command. */
function shellLines(command: string): string {
  return command.replace(/ (?=--|< )/g, ' \\\n  ');
}

export function pagePath(lang: string): string {
  return lang === 'en' ? '/' : `/${lang}/`;
}

/** Message, files, the metadata warning and the send button; `extra` goes just before the button. */
function composer(s: Strings, p: string, messageLabel: string, extra = ''): string {
  return `<div class="field">
<label for="${p}message">${esc(messageLabel)}</label>
<p class="help" id="${p}message-help">${esc(s.messageHelp)}</p>
<textarea id="${p}message" rows="10" autocomplete="off" aria-describedby="${p}message-help"></textarea>
</div>
<div class="field">
<label for="${p}files">${esc(s.filesLabel)}</label>
<p class="help" id="${p}files-help">${esc(s.filesHelp)}</p>
<div id="${p}drop" class="drop"><input type="file" id="${p}files" multiple aria-describedby="${p}files-help ${p}risky"><span class="drop-hint" aria-hidden="true">${esc(s.dropHere)}</span></div>
<ul id="${p}file-list" class="file-list"></ul>
<p id="${p}total" class="total" hidden></p>
</div>
<div class="field metadata">
<p id="${p}metadata-warning" class="warning">⚠ ${esc(s.metadataWarning)}</p>
<div id="${p}risky" class="risky" hidden><p>${esc(s.risky.intro)}</p><ul id="${p}risky-list"></ul><p>${esc(s.risky.advice)}</p></div>
<p class="check"><input type="checkbox" id="${p}strip" checked aria-describedby="${p}metadata-warning"><label for="${p}strip">${esc(s.stripLabel)}</label></p>
</div>
${extra}<p class="actions"><button type="submit" id="${p}send">${esc(s.send)}</button></p>
<div id="${p}progress-box" class="progress-box" hidden>
<p id="${p}status" role="status" aria-live="polite"></p>
<progress id="${p}progress" max="1000" value="0" aria-labelledby="${p}status"></progress>
<div id="${p}busy" class="busy" hidden aria-hidden="true"></div>
<p id="${p}progress-text" class="help"></p>
</div>`;
}

/** What the source reads once a tip or follow-up is stored; the script picks the sentences that apply. */
function receipt(s: Strings, p: string, title: string, again: string, level: 2 | 4): string {
  return `<section id="${p}receipt" class="receipt" hidden tabindex="-1" aria-labelledby="${p}receipt-title">
<h${level} id="${p}receipt-title">✓ ${esc(title)}</h${level}>
<p>${esc(s.receiptBody)}</p>
<dl class="receipt-facts"><dt>${esc(s.receiptId)}</dt><dd><code id="${p}receipt-id" class="fp"></code></dd><dt>${esc(s.receiptDay)}</dt><dd><time id="${p}receipt-day"></time></dd><dt>${esc(s.receiptExpires)}</dt><dd><time id="${p}receipt-expires"></time></dd></dl>
<h${level + 1}>${esc(s.receiptNextTitle)}</h${level + 1}>
<ul class="next">
<li id="${p}receipt-answer"></li>
<li id="${p}receipt-keep"></li>
<li>${esc(s.receiptDestroy)}</li>
<li id="${p}receipt-until"></li>
</ul>
<p class="help">${esc(s.receiptNotKept)}</p>
${again}
</section>`;
}

/** The signed retention policy and the warrant canary, just above the form: one short paragraph and one line,
 * the details folded away. Empty until the worker has verified them (client/web/policy-ui.ts fills it). */
function policySection(s: Strings): string {
  const p = s.policy;
  return `<section id="policy" class="policy" hidden aria-labelledby="policy-title">
<h2 id="policy-title">${esc(p.title)}</h2>
<p id="policy-status" role="status" aria-live="polite"></p>
<p id="policy-summary" hidden></p>
<p id="policy-problem" class="warning" hidden></p>
<p id="canary" hidden></p>
<p id="canary-alert" class="warning canary-alert" role="alert" hidden></p>
<details id="policy-details" hidden>
<summary>${esc(p.storedTitle)}</summary>
<p>${esc(p.storedIntro)}</p>
<ul id="policy-stored" class="stored"></ul>
<p id="policy-uploads"></p>
<p id="policy-period"></p>
<p>${esc(p.logged)} <code id="policy-logged"></code></p>
<h3>${esc(p.keysTitle)}</h3>
<p class="help">${esc(p.keysIntro)}</p>
<dl id="policy-keys" class="keys"></dl>
</details>
<details id="canary-details" hidden>
<summary>${esc(s.canary.statementLabel)}</summary>
<blockquote id="canary-statement" lang="en"></blockquote>
</details>
</section>`;
}

export function renderPage(s: Strings): string {
  const menu = Object.values(LANGUAGES)
    .map((l) => `<li><a href="${pagePath(l.lang)}" lang="${l.lang}" hreflang="${l.lang}"${l.lang === s.lang ? ' aria-current="page"' : ''}>${esc(l.languageName)}</a></li>`)
    .join('');
  const c = s.codename;
  const r = s.returning;
  const wantReplies = `<div class="field replies-choice">
<p class="check"><input type="checkbox" id="want-replies" aria-describedby="want-replies-help"><label for="want-replies">${esc(s.repliesLabel)}</label></p>
<p class="help" id="want-replies-help">${esc(s.repliesHelp)}</p>
</div>
`;
  return `<!doctype html>
<html lang="${s.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="tipline-fingerprint" content="${FINGERPRINT_SLOT}">
<title>${esc(s.title)} · Tipline</title>
<link rel="stylesheet" href="/assets/style.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header>
<nav aria-label="${esc(s.languageMenu)}"><ul class="languages">${menu}</ul></nav>
</header>
<main>
<h1>${esc(s.title)}</h1>
<p>${esc(s.intro)}</p>
<p id="returning-top" class="returning-top" hidden>${esc(s.returningLead)} <a href="#returning" id="returning-link">${esc(s.returningLink)}</a></p>
<section id="fp-section" class="fingerprint" aria-labelledby="fp-label">
<h2 id="fp-label">${esc(s.fingerprintLabel)}</h2>
<p><code id="fingerprint" class="fp">${FINGERPRINT_SLOT}</code></p>
<p class="help">${esc(s.fingerprintHelp)}</p>
</section>
<section id="not-ready" class="not-ready" hidden aria-labelledby="not-ready-title">
<h2 id="not-ready-title">${esc(s.notReadyTitle)}</h2>
<p>${esc(s.notReadyBody)}</p>
<p class="help">${esc(s.notReadyOperator)}</p>
</section>
<noscript>
<section class="noscript">
<h2>${esc(s.noscriptTitle)}</h2>
<p>${esc(s.noscriptWhy)}</p>
<p>${esc(s.noscriptHow)}</p>
<p>${esc(s.noscriptCliLabel)}</p>
<pre><code>${esc(shellLines(s.noscriptCli.replace('{fingerprint}', FINGERPRINT_SLOT)))}</code></pre>
<p>${esc(s.noscriptGet)}</p>
</section>
</noscript>
${policySection(s)}
<!-- No name attributes and form-action 'none': even a native submission could not carry the message. autocomplete
off: Chromium would otherwise restore the draft from its session history after Back. -->
<form id="tip-form" hidden novalidate autocomplete="off">
${composer(s, '', s.messageLabel, wantReplies)}
</form>
<section id="codename-box" class="codename-box" hidden tabindex="-1" aria-labelledby="codename-title">
<h2 id="codename-title">${esc(c.title)}</h2>
<p id="codename-status" role="status" aria-live="polite"></p>
<ol id="codename-words" class="codename" lang="en"></ol>
<ul class="advice">
<li><strong>${esc(c.write)}</strong></li>
<li>${esc(c.only)}</li>
<li>${esc(c.keep)}</li>
</ul>
<p id="codename-step1" class="actions"><button type="button" id="codename-written">${esc(c.written)}</button></p>
<form id="codename-confirm-form" hidden novalidate autocomplete="off">
<div class="field">
<label for="codename-confirm">${esc(c.confirmLabel)}</label>
<p class="help" id="codename-confirm-help">${esc(c.confirmHelp)}</p>
<input type="text" id="codename-confirm" class="codename-input" autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="codename-confirm-help">
</div>
<p class="actions"><button type="submit" id="codename-send">${esc(c.confirmSend)}</button> <button type="button" id="codename-show" class="secondary">${esc(c.showAgain)}</button></p>
</form>
<p id="codename-error" class="error" role="alert" hidden></p>
<p><button type="button" id="codename-cancel" class="secondary">${esc(c.cancel)}</button></p>
</section>
<p id="error" class="error" role="alert" hidden></p>
${receipt(s, '', s.receiptTitle, `<p><a href="${pagePath(s.lang)}" id="again">${esc(s.receiptAgain)}</a></p>`, 2)}
<section id="returning" class="returning" hidden tabindex="-1" aria-labelledby="returning-title">
<h2 id="returning-title">${esc(r.title)}</h2>
<p>${esc(r.intro)}</p>
<form id="visit-form" novalidate autocomplete="off">
<div class="field">
<label for="codename">${esc(r.label)}</label>
<p class="help" id="codename-help">${esc(r.help)}</p>
<input type="text" id="codename" class="codename-input" autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="codename-help">
</div>
<p class="actions"><button type="submit" id="check">${esc(r.check)}</button></p>
</form>
<p id="visit-status" class="visit-status" role="status" aria-live="polite"></p>
<p id="visit-error" class="error" role="alert" hidden></p>
<div id="replies" hidden>
<h3>${esc(r.repliesTitle)}</h3>
<ol id="reply-list" class="replies"></ol>
<p id="replies-more" class="notice" hidden>${esc(r.more)}</p>
<p id="replies-refused" class="warning" hidden>⚠ ${esc(r.refused)}</p>
<p class="actions"><button type="button" id="delete-replies" aria-describedby="delete-help">${esc(r.delete)}</button></p>
<p class="help" id="delete-help">${esc(r.deleteHelp)}</p>
<p id="delete-status" role="status" aria-live="polite"></p>
</div>
<section id="followup" hidden aria-labelledby="followup-title">
<h3 id="followup-title">${esc(r.followTitle)}</h3>
<p>${esc(r.followIntro)}</p>
<form id="followup-form" novalidate autocomplete="off">
${composer(s, 'followup-', r.followLabel)}
</form>
<p id="followup-error" class="error" role="alert" hidden></p>
${receipt(s, 'followup-', s.followReceiptTitle, `<p><button type="button" id="followup-again" class="secondary">${esc(r.followAgain)}</button></p>`, 4)}
</section>
</section>
</main>
</body>
</html>
`;
}

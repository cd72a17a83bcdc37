// The page's HTML, one file per language, rendered at build time. It is complete without JavaScript: at
// Tor Browser's "Safest" level the explanation shows and the form stays hidden, so nothing can be posted.
// #error sits after the form, not in it: it must also show when the form never appears (a page served without
// its fingerprint), and in the flow it lands just under the send button, where the eye is after pressing it.
// With no newsroom keys published the server leaves the fingerprint empty: #not-ready replaces the fingerprint
// and the form, shown by the script and, with JavaScript off, by the stylesheet (#fingerprint:empty).
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

export function renderPage(s: Strings): string {
  const menu = Object.values(LANGUAGES)
    .map((l) => `<li><a href="${pagePath(l.lang)}" lang="${l.lang}" hreflang="${l.lang}"${l.lang === s.lang ? ' aria-current="page"' : ''}>${esc(l.languageName)}</a></li>`)
    .join('');
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
<pre><code>${esc(shellLines(s.noscriptCli))}</code></pre>
</section>
</noscript>
<!-- No name attributes and form-action 'none': even a native submission could not carry the message. autocomplete
off: Chromium would otherwise restore the draft from its session history after Back. -->
<form id="tip-form" hidden novalidate autocomplete="off">
<div class="field">
<label for="message">${esc(s.messageLabel)}</label>
<p class="help" id="message-help">${esc(s.messageHelp)}</p>
<textarea id="message" rows="10" autocomplete="off" aria-describedby="message-help"></textarea>
</div>
<div class="field">
<label for="files">${esc(s.filesLabel)}</label>
<p class="help" id="files-help">${esc(s.filesHelp)}</p>
<div id="drop" class="drop"><input type="file" id="files" multiple aria-describedby="files-help"><span class="drop-hint" aria-hidden="true">${esc(s.dropHere)}</span></div>
<ul id="file-list" class="file-list"></ul>
<p id="total" class="total" hidden></p>
</div>
<div class="field metadata">
<p id="metadata-warning" class="warning">⚠ ${esc(s.metadataWarning)}</p>
<p class="check"><input type="checkbox" id="strip" checked aria-describedby="metadata-warning"><label for="strip">${esc(s.stripLabel)}</label></p>
</div>
<p class="actions"><button type="submit" id="send">${esc(s.send)}</button></p>
<div id="progress-box" class="progress-box" hidden>
<p id="status" role="status" aria-live="polite"></p>
<progress id="progress" max="1000" value="0" aria-labelledby="status"></progress>
<p id="progress-text" class="help"></p>
</div>
</form>
<p id="error" class="error" role="alert" hidden></p>
<section id="receipt" hidden tabindex="-1" aria-labelledby="receipt-title">
<h2 id="receipt-title">✓ ${esc(s.receiptTitle)}</h2>
<p>${esc(s.receiptBody)}</p>
<dl class="receipt-facts"><dt>${esc(s.receiptId)}</dt><dd><code id="receipt-id" class="fp"></code></dd><dt>${esc(s.receiptDay)}</dt><dd id="receipt-day"></dd></dl>
<p>${esc(s.receiptNotKept)}</p>
<p><a href="${pagePath(s.lang)}" id="again">${esc(s.receiptAgain)}</a></p>
</section>
</main>
</body>
</html>
`;
}

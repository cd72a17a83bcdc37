// The page: the form is plain HTML and usable at once; this script shows it (it stays hidden without
// JavaScript, so nothing can ever be sent unencrypted) and wires its parts: the tip form (composer.ts), the
// codename shown before a tip that asks for replies (codename-ui.ts), the receipt (receipt-ui.ts), "I have a
// codename" (replies-ui.ts) and the signed retention policy and warrant canary above the form (policy-ui.ts). The crypto code runs in the worker (worker-client.ts). It stores nothing: no
// cookies, no localStorage, nothing that outlives the tab.
import { LANGUAGES, DEFAULT_LANGUAGE, type Strings } from './strings/index.js';
import { FINGERPRINT_SLOT } from '../../schema/page.js';
import { $ } from './format.js';
import { Composer } from './composer.js';
import { CodenameConfirm } from './codename-ui.js';
import { RepliesView } from './replies-ui.js';
import { showReceipt } from './receipt-ui.js';
import { PolicyView } from './policy-ui.js';
import { onUnclaimed, startWorker } from './worker-client.js';

const s: Strings = LANGUAGES[document.documentElement.lang] ?? LANGUAGES[DEFAULT_LANGUAGE]!;
const fingerprint = document.querySelector<HTMLMetaElement>('meta[name="tipline-fingerprint"]')?.content ?? '';

const error = $('error');
const tip = new Composer('tip-form', '', s, error, 'tip');
const wantReplies = $<HTMLInputElement>('want-replies');
const codename = new CodenameConfirm(s, fingerprint);
const replies = new RepliesView(s, fingerprint);
/** A codename the source has written down and typed back: a retry after a failed send keeps it. */
let confirmed = false;

function sendTip(withCodename: boolean): void {
  tip.send(fingerprint, withCodename ? 'new' : 'none', (receipt) => {
    codename.hide();
    confirmed = false;
    tip.form.hidden = true;
    showReceipt(s, '', receipt, withCodename);
  });
}

tip.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!tip.check()) return;
  if (!wantReplies.checked) {
    // Replies no longer wanted after a failed send: the codename made for it is not sent, nor shown.
    codename.hide();
    confirmed = false;
    return sendTip(false);
  }
  if (confirmed) return sendTip(true);
  // Nothing is sent until the codename is written down and typed back; the form stays as it was meanwhile.
  tip.freeze(true);
  codename.start(
    () => {
      confirmed = true;
      sendTip(true);
    },
    () => {
      tip.freeze(false);
      wantReplies.focus();
    },
  );
});
// A failure before the worker could take any job (it cannot run the crypto code) is said under the form.
onUnclaimed((ev) => {
  if (ev.type === 'error') tip.fail(ev.kind === 'failed' ? s.errors.failed.replace('{reason}', ev.reason) : s.errors[ev.kind]);
});

// A file dropped anywhere else would make the browser open it in this tab, losing the draft or a running
// upload: drops are caught on the whole document, and only taken while nothing is being sent. A drop on the
// follow-up form goes there; anywhere else, to the tip form while it is on screen.
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  for (const c of [tip, replies.composer]) c.drop.classList.toggle('over', c.drop.contains(e.target as Node));
});
document.addEventListener('dragleave', () => {
  for (const c of [tip, replies.composer]) c.drop.classList.remove('over');
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  const target = [replies.composer, tip].find((c) => !c.form.hidden && !c.form.closest('[hidden]') && (c === tip || c.form.contains(e.target as Node)));
  for (const c of [tip, replies.composer]) c.drop.classList.remove('over');
  if (target && !target.busy()) target.addFiles(e.dataTransfer?.files ?? null);
});
window.addEventListener('beforeunload', (e) => {
  if (tip.busy() || replies.composer.busy()) e.preventDefault(); // leaving now would abandon the upload
});

if (fingerprint === '') {
  // No keys published yet: nothing to encrypt to, and nothing wrong either. No form, no crypto code loaded.
  $('fp-section').hidden = true;
  $('not-ready').hidden = false;
} else if (fingerprint === FINGERPRINT_SLOT) {
  tip.showError(s.errors.directory); // not served by a tip line server: there is no fingerprint to check against
} else {
  tip.form.hidden = false;
  // The signed policy and canary are fetched now, alongside the worker's script; shown once verified.
  new PolicyView(s).start(fingerprint);
  $('returning-top').hidden = false;
  replies.show();
  // The link (or an address ending in #returning) lands in the codename field, ready to type.
  const toReturning = () => {
    if (location.hash === '#returning') replies.focus();
  };
  window.addEventListener('hashchange', toReturning);
  $('returning-link').addEventListener('click', () => setTimeout(toReturning, 0));
  toReturning();
  // The crypto code (most of the page's weight) loads in the worker only after the form is on screen.
  const later = (globalThis as { requestIdleCallback?: (f: () => void) => void }).requestIdleCallback ?? ((f: () => void) => setTimeout(f, 50));
  later(() => void startWorker());
}

// Outside review of issue 8: the page's codename fields, in every language, keep the codename out of the
// browser's memory of forms and out of anything a native submission could send: both inputs (the copy typed back
// when asking for replies, and "I have a codename") have no name, autocomplete, spellcheck and autocapitalize
// off, and sit in forms with autocomplete off (Firefox also then skips restoring their value on back/forward).
// Threat: a shared or seized computer's form history, or a spellchecker's dictionary, holding the nine words.
import t from 'tap';
import { renderPage } from '../client/web/page.js';
import { LANGUAGES } from '../client/web/strings/index.js';

/** The start tag of the element with this id, and of the form that encloses it. */
function tagOf(html: string, id: string): { input: string; form: string } {
  const at = html.indexOf(`id="${id}"`);
  const input = html.slice(html.lastIndexOf('<', at), html.indexOf('>', at) + 1);
  const formStart = html.lastIndexOf('<form', at);
  const formEnd = html.lastIndexOf('</form>', at);
  const form = formStart > formEnd ? html.slice(formStart, html.indexOf('>', formStart) + 1) : '';
  return { input, form };
}

for (const [lang, strings] of Object.entries(LANGUAGES)) {
  t.test(`the codename fields in ${lang}`, async (t) => {
    const html = renderPage(strings);
    for (const id of ['codename', 'codename-confirm']) {
      const { input, form } = tagOf(html, id);
      t.match(input, /^<input /, `${id}: found`);
      t.match(input, /autocomplete="off"/, `${id}: autocomplete off`);
      t.match(input, /spellcheck="false"/, `${id}: spellcheck off`);
      t.match(input, /autocapitalize="none"/, `${id}: autocapitalize off`);
      t.notMatch(input, /\sname=/, `${id}: no name (nothing a native submission or form history could key on)`);
      t.notMatch(input, /\svalue=/, `${id}: empty in the page as served`);
      t.match(form, /autocomplete="off"/, `${id}: its form has autocomplete off`);
    }
  });
}

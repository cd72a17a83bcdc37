// The receipt: what was stored, and what happens next in plain words: whether the newsroom can answer (only
// with a codename), what to keep (the codename, nothing else), what to destroy, and until when the tip is kept.
import type { Strings } from './strings/index.js';
import type { Receipt } from '../../schema/wire.js';
import { $, dayFormatter, fill, showDay } from './format.js';

export function showReceipt(s: Strings, p: string, r: Receipt, withCodename: boolean): void {
  const day = dayFormatter(s.lang);
  $(`${p}receipt-id`).textContent = r.tip_id;
  showDay($(`${p}receipt-day`), r.received_day, day);
  showDay($(`${p}receipt-expires`), r.expires_day, day);
  $(`${p}receipt-answer`).textContent = withCodename ? s.receiptAnswerYes : s.receiptAnswerNo;
  $(`${p}receipt-keep`).textContent = withCodename ? s.receiptKeepYes : s.receiptKeepNo;
  $(`${p}receipt-until`).textContent = fill(s.receiptUntil, { day: day(r.expires_day) });
  const box = $(`${p}receipt`);
  box.hidden = false;
  box.focus();
}

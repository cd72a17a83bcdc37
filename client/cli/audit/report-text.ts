// The terminal report: one line per check, `PASS|FAIL|SKIP name: detail`, then a summary line.
import type { Report } from './types.js';

export function reportText(r: Report): string {
  const lines = r.checks.map((c) => `${c.status} ${c.id}: ${c.detail}`);
  lines.push(`${r.summary.fail === 0 ? 'all checks passed' : `${r.summary.fail} check${r.summary.fail === 1 ? '' : 's'} failed`} (${r.summary.pass} passed, ${r.summary.fail} failed, ${r.summary.skip} skipped) for tip line ${r.tipline} on ${r.checked_at}`);
  return `${lines.join('\n')}\n`;
}

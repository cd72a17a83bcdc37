// The machine-readable report: {tipline, server, checked_at (a day), checks: [{id, status, title, detail}], summary}.
import type { Report } from './types.js';

export function reportJson(r: Report): string {
  return `${JSON.stringify({ tipline: r.tipline, server: r.server, checked_at: r.checked_at, checks: r.checks.map(({ id, status, title, detail }) => ({ id, status, title, detail })), summary: r.summary }, null, 2)}\n`;
}

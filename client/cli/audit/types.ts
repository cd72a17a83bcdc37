// What every check of `tipline audit` returns, and the words each report shows for it. The titles and meanings
// are written for a reader who is not an engineer (a lawyer filing the report): what was checked, and what a
// FAIL means for the people the tip line promises to protect.

export type Status = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  id: CheckId;
  status: Status;
  title: string;
  detail: string;
}

export interface Report {
  /** The root fingerprint the auditor obtained out of band: which tip line this report is about. */
  tipline: string;
  server: string;
  /** A day, not a time: the report is filed, and an hour says nothing the day does not. */
  checked_at: string;
  checks: CheckResult[];
  summary: { pass: number; fail: number; skip: number };
}

export const CHECKS = {
  policy: {
    title: 'The retention policy is signed by the newsroom',
    meaning: 'The policy served is not the one the newsroom signed, or is older than one seen before: what the tip line says it keeps cannot be trusted.',
  },
  directory: {
    title: 'The list of desk and auditor keys is signed and current',
    meaning: 'Sources could be encrypting their tips to keys the newsroom did not approve, or to a list it has withdrawn.',
  },
  'same-root': {
    title: 'Every published document comes from the same newsroom key',
    meaning: 'Some document is signed by another key than the one the newsroom published: it may come from someone else.',
  },
  canary: {
    title: 'The warrant canary is signed and renewed on time',
    meaning: 'The newsroom has not renewed its statement that it received no secret order, or the statement is missing or forged.',
  },
  'client-manifest': {
    title: 'The signed list of the page\'s files is published',
    meaning: 'Nobody can check that the page served to sources is the published code.',
  },
  'desk-keys': {
    title: 'No desk key older than the retention period is still in use',
    meaning: 'A key that can still decrypt tips older than the retention period has not been replaced, so expired tips may remain readable from copies.',
  },
  'database-schema': {
    title: 'The database stores only what the policy lists',
    meaning: 'The database holds a table or column the policy does not disclose: something more is kept than the newsroom says.',
  },
  'stored-documents': {
    title: 'The documents stored in the database are the ones the newsroom signed',
    meaning: 'A signed document kept in the database was changed after it was signed: someone with access to the database tampered with it.',
  },
  retention: {
    title: 'Nothing is kept longer than the policy allows',
    meaning: 'Tips, replies, desk notes or uploads are kept past their deletion date, or their deletion dates were changed.',
  },
  'database-logging': {
    title: 'PostgreSQL logs no statements, connections or addresses',
    meaning: 'The database writes logs that may record what was stored, when, or from where.',
  },
  'audit-chain': {
    title: 'The audit log is intact',
    meaning: 'An entry of the log of deletions and changes was edited, removed or reordered.',
  },
  'audit-sources': {
    title: 'The audit log reads the same from the database and the staff interface',
    meaning: 'The server shows auditors a different log from the one it stores.',
  },
  'audit-head': {
    title: 'The server\'s signed summary of the audit log matches the log',
    meaning: 'The server signed a state of the log that the log no longer has, or the summary is missing or forged.',
  },
  'kept-heads': {
    title: 'The audit log still contains everything seen at earlier audits',
    meaning: 'The log was rewritten or cut short since an earlier audit: history was changed.',
  },
  deletions: {
    title: 'Every deletion by staff carries the journalist\'s own signed request',
    meaning: 'A deletion entry could have been written by the server to blame a journalist.',
  },
  'purge-heartbeat': {
    title: 'The deletion job runs every day',
    meaning: 'The job that deletes expired tips did not run for days: expired tips may have been kept.',
  },
} as const;

export type CheckId = keyof typeof CHECKS;

export function result(id: CheckId, status: Status, detail: string): CheckResult {
  return { id, status, title: CHECKS[id].title, detail };
}
export const pass = (id: CheckId, detail: string) => result(id, 'PASS', detail);
export const fail = (id: CheckId, detail: string) => result(id, 'FAIL', detail);
export const skip = (id: CheckId, detail: string) => result(id, 'SKIP', detail);

export const NOT_PUBLISHED = 'not published by this server';

/** A message from elsewhere (a server's error, a document's field), made safe for a terminal and a page. */
export function clean(s: string, max = 300): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ').slice(0, max);
}

// What `tipline audit` reads over the network: the public documents at /.well-known/tipline/, and the audit
// log through the staff API (a request signed with the auditor's key). Every read answers with what it got or
// why not, never throws: a server that does not publish something is a finding, not a crash.
import { randomBytes } from 'node:crypto';
import { signStaffRequest } from '../../../crypto/staff-request.js';
import { Connection, type Proxy } from '../http.js';
import type { StaffIdentity } from '../keyfiles.js';
import { clean, NOT_PUBLISHED } from './types.js';

const DOC_LIMIT = 4 * 1024 * 1024;
const AUDIT_LIMIT = 256 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

export type Got<T = unknown> = { ok: true; value: T } | { ok: false; why: string };

function parse(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return undefined;
  }
}

function errorText(body: Uint8Array): string {
  const j = parse(body) as { error?: { code?: unknown; message?: unknown } } | undefined;
  return typeof j?.error?.message === 'string' ? clean(j.error.message, 200) : '';
}

export class Sources {
  private readonly pub: Connection;
  private readonly staff: Connection | undefined;

  constructor(server: URL, staff: URL | undefined, proxy: Proxy | undefined) {
    // One circuit per run, not shared with the auditor's other Tor traffic.
    const p = proxy ? { ...proxy, isolation: randomBytes(12).toString('hex') } : undefined;
    this.pub = new Connection(server, p);
    this.staff = staff ? new Connection(staff, p) : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([this.pub.close(), this.staff?.close()]);
  }

  /** GET /.well-known/tipline/NAME as JSON. A 404 is "not published by this server". */
  async document(name: string): Promise<Got> {
    try {
      const a = await this.pub.send({ method: 'GET', path: `/.well-known/tipline/${name}` }, DOC_LIMIT, TIMEOUT_MS);
      if (a.status === 404) return { ok: false, why: NOT_PUBLISHED };
      if (a.status !== 200) return { ok: false, why: `the server answered ${a.status}${errorText(a.body) ? `: ${errorText(a.body)}` : ''}` };
      const json = parse(a.body);
      if (json === undefined) return { ok: false, why: 'the server\'s answer is not JSON' };
      return { ok: true, value: json };
    } catch (err) {
      return { ok: false, why: `could not fetch it: ${clean((err as Error).message, 200)}` };
    }
  }

  /** The audit log through the staff API: {entries[, head]} as the server sends it (checked by the caller). */
  async staffAudit(who: StaffIdentity): Promise<Got> {
    if (!this.staff) return { ok: false, why: 'no --staff address given' };
    try {
      const url = new URL('/api/v1/staff/audit', this.staff.base);
      const headers = signStaffRequest({ host: url.host, method: 'GET', pathAndQuery: url.pathname, timestamp: Math.floor(Date.now() / 1000), nonce: new Uint8Array(randomBytes(16)), body: new Uint8Array(0) }, who.signSecret);
      const a = await this.staff.send({ method: 'GET', path: url.pathname, headers }, AUDIT_LIMIT, TIMEOUT_MS);
      if (a.status === 404) return { ok: false, why: 'the staff API is not served at --staff (give the staff listener\'s address, not the sources\' one)' };
      if (a.status === 401 || a.status === 403) return { ok: false, why: `the staff API refused the auditor key (${a.status}${errorText(a.body) ? `: ${errorText(a.body)}` : ''}): is it listed in the directory?` };
      if (a.status !== 200) return { ok: false, why: `the staff API answered ${a.status}${errorText(a.body) ? `: ${errorText(a.body)}` : ''}` };
      const json = parse(a.body);
      if (json === undefined) return { ok: false, why: 'the staff API\'s answer is not JSON' };
      return { ok: true, value: json };
    } catch (err) {
      return { ok: false, why: `could not fetch it: ${clean((err as Error).message, 200)}` };
    }
  }
}

// Requests to the local desk API (schema/desk-api.ts), all relative to the page's own URL so the per-run secret
// path prefix is kept; answers are checked with the contract's schemas before the page uses them.
import { z } from 'zod';
import { DeskSession, ThreadList, ThreadDetail, FileText, SyncResult, TagList, ThreadDeleted, DeskError, type ThreadsQuery, ThreadStatus as ThreadStatusSchema } from '../../schema/desk-api.js';

// zod 4 otherwise probes `new Function` once, which the page's CSP (no 'unsafe-eval') refuses and reports.
z.config({ jitless: true });

export type ThreadStatus = z.infer<typeof ThreadStatusSchema>;

export class ApiError extends Error {}

/** A URL under the page's folder: `api/...` next to index.html, whatever the secret. */
export function apiUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

export function threadPath(id: string): string {
  return `api/threads/${encodeURIComponent(id)}`;
}

async function call<S extends z.ZodTypeAny>(schema: S, path: string, init: RequestInit = {}): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(apiUrl(path), { credentials: 'same-origin', cache: 'no-store', ...init });
  } catch {
    throw new ApiError('the desk app is not reachable (is `tipline desk` still running?)');
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const e = DeskError.safeParse(body);
    throw new ApiError(e.success ? e.data.error.message : `HTTP ${res.status}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ApiError('the desk app answered something unexpected');
  return parsed.data as z.infer<S>;
}

function post<S extends z.ZodTypeAny>(schema: S, path: string, body: unknown): Promise<z.infer<S>> {
  return call(schema, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export const api = {
  session: () => call(DeskSession, 'api/session'),
  threads: (q: ThreadsQuery) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
    const qs = p.toString();
    return call(ThreadList, `api/threads${qs ? `?${qs}` : ''}`);
  },
  thread: (id: string) => call(ThreadDetail, threadPath(id)),
  tags: () => call(TagList, 'api/tags'),
  fileText: (id: string, tip: string, n: number) => call(FileText, `${threadPath(id)}/tips/${tip}/files/${n}/text`),
  read: (id: string, read: boolean) => post(ThreadDetail, `${threadPath(id)}/read`, { read }),
  star: (id: string, starred: boolean) => post(ThreadDetail, `${threadPath(id)}/star`, { starred }),
  status: (id: string, status: ThreadStatus) => post(ThreadDetail, `${threadPath(id)}/status`, { status }),
  assign: (id: string, desk: string | null) => post(ThreadDetail, `${threadPath(id)}/assign`, { desk }),
  tagsChange: (id: string, add: string[], remove: string[]) => post(ThreadDetail, `${threadPath(id)}/tags`, { add, remove }),
  note: (id: string, text: string, supersedes: string[]) => post(ThreadDetail, `${threadPath(id)}/note`, { text, supersedes }),
  reply: (id: string, text: string) => post(ThreadDetail, `${threadPath(id)}/reply`, { text }),
  remove: (id: string) => call(ThreadDeleted, threadPath(id), { method: 'DELETE' }),
  sync: () => post(SyncResult, 'api/sync', {}),
};

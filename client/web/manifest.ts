// The client manifest the build writes (dist/web/client-manifest.json, FORMAT.md §Client manifest): every file
// the server serves to a source's browser, its SHA-256 and Content-Type, and the Content-Security-Policy it is
// served with. No time, no path of the build machine, files sorted: two builds of one commit give the same
// bytes, so anyone can rebuild and compare before trusting the root's signature over it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateBuiltManifest, type BuiltManifest, type ManifestFile } from '../../crypto/client-manifest.js';
import { PAGE_CSP, webFileOf } from '../../schema/page.js';

export const MANIFEST_FILE = 'client-manifest.json';

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export interface BuiltFile {
  path: string;
  bytes: Uint8Array;
  content_type: string;
  /** A page the server fills in with the root fingerprint (schema/page.ts FINGERPRINT_SLOT) as it serves it. */
  template?: boolean;
}

export function makeBuiltManifest(version: string, files: BuiltFile[]): BuiltManifest {
  const entries: ManifestFile[] = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => ({
      path: f.path,
      sha256: sha256Hex(f.bytes),
      content_type: f.content_type,
      csp: PAGE_CSP,
      // Hashed as built, slot unfilled: the verifier fills it in itself. Only pages: the script also holds the
      // slot's text (to tell an unfilled page), and is served as built.
      ...(f.template ? { template: 'fingerprint' as const } : {}),
    }));
  return validateBuiltManifest({ v: 1, version, files: entries });
}

/** The manifest's bytes as written: fixed key order, two-space indent, one final newline. */
export function serializeManifest(m: BuiltManifest): string {
  return `${JSON.stringify({ v: m.v, version: m.version, files: m.files.map((f) => ({ path: f.path, sha256: f.sha256, content_type: f.content_type, csp: f.csp, ...(f.template ? { template: f.template } : {}) })) }, null, 2)}\n`;
}

/** Files in the built folder `dir` that no longer match the manifest (changed or missing since the build). */
export function changedSinceBuild(dir: string, m: BuiltManifest): string[] {
  const changed: string[] = [];
  for (const f of m.files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, webFileOf(f.path)));
    } catch {
      changed.push(`${f.path} (missing)`);
      continue;
    }
    if (sha256Hex(bytes) !== f.sha256) changed.push(f.path);
  }
  return changed;
}

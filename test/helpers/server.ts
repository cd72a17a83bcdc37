// A real Fastify server on loopback ports, as `tipline serve` runs it: the public listener (page, directory,
// proof-of-work, uploads) at `url`, the staff API at `staffUrl`, with everything both log captured for the
// privacy checks. Staff requests are signed for the staff listener's host (helpers/fixtures.ts signFor).
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer, type StaffSurfaceOptions } from '../../server/app.js';
import { listenerStaffHosts } from '../../server/staff-auth.js';
import type { ServerConfig } from '../../server/config.js';
import { signFor } from './fixtures.js';

export interface TestServer {
  /** The public application. */
  app: FastifyInstance;
  /** Sources: the page, the directory, proof-of-work, uploads. */
  url: string;
  staffApp: FastifyInstance;
  /** The newsroom: /api/v1/staff/… only (`tipline fetch/delete --server`). */
  staffUrl: string;
  /** Also accept staff requests signed for `host` (a forwarder's or proxy's address in front of staffUrl). */
  allowStaffHost(host: string): void;
  logs(): string;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, staff: StaffSurfaceOptions = {}): Promise<TestServer> {
  let captured = '';
  const logStream = new Writable({
    write(chunk, _enc, done) {
      captured += chunk.toString();
      done();
    },
  });
  const full = { powDifficulty: 4, ...config, logStream };
  const app = await buildServer(full, 'public');
  // By default the hosts `tipline serve` derives from its staff listener, and those a test adds.
  const extra: string[] = [];
  let listening: FastifyInstance | undefined;
  const staffApp = await buildServer(full, 'staff', { hosts: () => [...listenerStaffHosts(listening?.server.address() ?? null), ...extra], ...staff });
  listening = staffApp;
  const urlOf = async (a: FastifyInstance) => {
    await a.listen({ host: '127.0.0.1', port: 0 });
    const addr = a.server.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  };
  const url = await urlOf(app);
  const staffUrl = await urlOf(staffApp);
  signFor(staffUrl);
  return {
    app,
    url,
    staffApp,
    staffUrl,
    allowStaffHost: (host) => void extra.push(host),
    logs: () => captured,
    close: async () => {
      await app.close();
      await staffApp.close();
    },
  };
}

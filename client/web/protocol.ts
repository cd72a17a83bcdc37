// Messages between the page and its worker.
import type { Receipt } from '../../schema/wire.js';

export type Stage = 'loading' | 'verifying' | 'preparing' | 'encrypting' | 'retrying' | 'finishing';

export interface SendRequest {
  type: 'send';
  message: string;
  files: File[];
  strip: boolean;
  fingerprint: string;
}

export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'stage'; stage: Stage }
  | { type: 'progress'; sent: number; total: number }
  | { type: 'done'; receipt: Receipt }
  | { type: 'error'; kind: 'directory' | 'expired' | 'failed' | 'noCrypto' | 'uncleanable'; reason: string };

// The tip line's HTTP API from the page: same origin, no cookies, no referrer, nothing cached.
import type { PowChallenge, Receipt, UploadCreated } from '../../schema/wire.js';
import type { TipTransport } from '../shared/transfer.js';

export class WebNetworkError extends Error {
  override name = 'WebNetworkError';
}

export class WebHttpError extends Error {
  override name = 'WebHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function retryable(err: unknown): boolean {
  return err instanceof WebNetworkError || (err instanceof WebHttpError && (err.status >= 500 || err.status === 429));
}

async function call<T>(method: string, path: string, body?: Uint8Array | string, type?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      body: body as BodyInit | undefined,
      headers: type ? { 'content-type': type } : {},
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (err) {
    throw new WebNetworkError((err as Error).message || 'network error');
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    if (res.ok) throw new WebHttpError(res.status, 'unknown', 'the server answered something that is not JSON');
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new WebHttpError(res.status, e?.code ?? 'unknown', e?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

export const webApi: TipTransport & { directory(): Promise<unknown> } = {
  directory: () => call('GET', '/.well-known/tipline/directory'),
  pow: () => call<PowChallenge>('GET', '/api/v1/pow'),
  createUpload: (pow, size) => call<UploadCreated>('POST', '/api/v1/uploads', JSON.stringify({ pow, size }), 'application/json'),
  putChunk: (id, n, data, finish) => call<Receipt | { received: number }>('PUT', `/api/v1/uploads/${encodeURIComponent(id)}/chunks/${n}${finish ? '?finish=1' : ''}`, data, 'application/octet-stream'),
};

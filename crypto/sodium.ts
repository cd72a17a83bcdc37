// libsodium is injected rather than imported: its 0.7 ESM build cannot be loaded by Node (it imports a file
// it does not ship), while the browser bundle must use exactly that build for its asm.js fallback (Tor
// Browser at "Safer" has no WebAssembly). Each platform loads it once and hands it over here.
import type Sodium from 'libsodium-wrappers';
import type SodiumSumo from 'libsodium-wrappers-sumo';

export type SodiumApi = typeof Sodium;
export type SodiumSumoApi = typeof SodiumSumo;

let std: SodiumApi | undefined;
let sumoApi: SodiumSumoApi | undefined;

/** Hands over a ready libsodium (await `.ready` first). `sumo` is needed only for key files (Argon2id). */
export function useSodium(standard: SodiumApi, sumo?: SodiumSumoApi): void {
  std = standard;
  if (sumo) sumoApi = sumo;
}

export function sodium(): SodiumApi {
  if (!std) throw new Error('crypto: libsodium is not loaded (call initCrypto() first)');
  return std;
}

/** The -sumo build: only for crypto_pwhash (Argon2id), which the standard build lacks. */
export function sumo(): SodiumSumoApi {
  if (!sumoApi) throw new Error('crypto: libsodium-sumo is not loaded (key files need it; call initCrypto() first)');
  return sumoApi;
}

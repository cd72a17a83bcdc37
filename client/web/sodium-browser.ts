// The browser's libsodium: the CommonJS build of libsodium-wrappers 0.7.16, which falls back to asm.js where
// WebAssembly is off (Tor Browser at "Safer"). The build script points this import at that file.
import sodium from 'libsodium-wrappers';
import { useSodium } from '../../crypto/sodium.js';

export async function loadSodium(): Promise<void> {
  await sodium.ready;
  useSodium(sodium);
}

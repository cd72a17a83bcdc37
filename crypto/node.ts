// The Node loader for libsodium (see sodium.ts). The only file in crypto/ that is not for the browser.
import { createRequire } from 'node:module';
import { useSodium, type SodiumApi, type SodiumSumoApi } from './sodium.js';

const require = createRequire(import.meta.url);
let loading: Promise<void> | undefined;

export function initCrypto(): Promise<void> {
  loading ??= (async () => {
    const std = require('libsodium-wrappers') as SodiumApi;
    const sumo = require('libsodium-wrappers-sumo') as SodiumSumoApi;
    await Promise.all([std.ready, sumo.ready]);
    useSodium(std, sumo);
  })();
  return loading;
}

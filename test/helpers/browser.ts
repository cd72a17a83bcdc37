// Real browsers from Debian, driven by puppeteer-core (never a downloaded browser): Firefox ESR (153 here; ESR 140 is the
// engine of Tor Browser 15) with Tor Browser's security-level prefs, and Chromium.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { IN_CI } from './databases.js';

export const FIREFOX = '/usr/bin/firefox-esr';
/** Where browser tests keep their screenshots (looked at by people; not compared by the tests): the checkout's
 * test-output/, wherever the test runs from. */
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots', import.meta.url));
mkdirSync(SCREENSHOTS, { recursive: true });
export const CHROMIUM = '/usr/bin/chromium';

/** Tor Browser's "Safer": no WebAssembly, no asm.js, no JIT — JavaScript runs interpreted. */
export const SAFER_PREFS = {
  'javascript.options.wasm': false,
  'javascript.options.asmjs': false,
  'javascript.options.ion': false,
  'javascript.options.baselinejit': false,
  'javascript.options.native_regexp': false,
};
/** "Safest": no JavaScript at all. */
export const SAFEST_PREFS = { 'javascript.enabled': false };

// Keep Firefox from reaching for the network on its own (updates, telemetry, safe browsing…).
const QUIET_PREFS = {
  'app.update.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'browser.newtabpage.enabled': false,
};

export function browserSkip(path: string, name: string): string | false {
  if (existsSync(path)) return false;
  if (IN_CI) return false; // in CI a missing browser must fail, not skip
  return `${name} not installed (apt-get install ${name === 'Firefox ESR' ? 'firefox-esr' : 'chromium'}): browser test skipped`;
}

/**
 * `unmonitored`: no network monitoring over WebDriver BiDi. puppeteer otherwise asks Firefox to keep a copy of
 * every request body in its parent process (measured: +740 MiB for a 512 MiB upload that, unautomated, costs
 * the tab under 100 MiB), so memory figures need it off; tests that record requests need it on.
 */
export async function launchFirefox(prefs: Record<string, boolean | number | string> = {}, size = { width: 1280, height: 800 }, opts: { unmonitored?: boolean } = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    defaultViewport: null,
    args: [`--width=${size.width}`, `--height=${size.height}`],
    extraPrefsFirefox: { ...QUIET_PREFS, ...prefs, ...(opts.unmonitored ? { 'remote.network.maxTotalDataSize': 1000 } : {}) },
    ...(opts.unmonitored ? { networkEnabled: false } : {}),
  });
}

/**
 * `unmonitored`: no CDP network monitoring. puppeteer otherwise has Chromium send it every request body, as a
 * string and again in base64 (measured: 3.7 MB/s for 1 MiB PUTs from a worker, 118 MB/s without), so upload
 * figures need it off; tests that record requests need it on.
 */
export async function launchChromium(size = { width: 1280, height: 800 }, opts: { unmonitored?: boolean } = {}): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    defaultViewport: size,
    ...(opts.unmonitored ? { networkEnabled: false } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

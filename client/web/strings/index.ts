import { en } from './en.js';
import { es } from './es.js';
import { de } from './de.js';
import type { Strings } from './types.js';

export type { Strings };
/** Chosen by path (/es/, /de/), never by Accept-Language: Tor Browser makes that header the same for all. */
export const LANGUAGES: Record<string, Strings> = { en, es, de };
export const DEFAULT_LANGUAGE = 'en';

import { en, type Strings } from './en.js';
import { es } from './es.js';
import { de } from './de.js';

export type { Strings };
export const LANGS = { en, es, de } as const;
export type Lang = keyof typeof LANGS;
/** Each language's own name, for the switcher. */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', es: 'Español', de: 'Deutsch' };

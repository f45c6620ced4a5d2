/**
 * Japanese first, English available. The chosen language is kept in localStorage under
 * `machi.lang`, mirrored on `<html lang>`, and shared by every component through `useI18n()`.
 */
import { useEffect, useState } from 'preact/hooks';
import { en } from './messages/en.ts';
import { ja, type MessageKey, type Messages } from './messages/ja.ts';

export type { MessageKey } from './messages/ja.ts';

export type Lang = 'ja' | 'en';

/** The languages offered, in the order the switch shows them. */
export const languages: readonly Lang[] = ['ja', 'en'];

/** BCP 47 locales for Intl formatting. */
export const locales: Record<Lang, string> = { ja: 'ja-JP', en: 'en-GB' };

const storageKey = 'machi.lang';
const dictionaries: Record<Lang, Messages> = { ja, en };
const listeners = new Set<(lang: Lang) => void>();
let current: Lang = readStoredLang() ?? 'ja';

function isLang(value: unknown): value is Lang {
  return value === 'ja' || value === 'en';
}

// Storage can be unavailable (private browsing, blocked cookies); the page must still work in Japanese.
function readStoredLang(): Lang | undefined {
  try {
    const stored = globalThis.localStorage?.getItem(storageKey);
    return isLang(stored) ? stored : undefined;
  } catch {
    return undefined;
  }
}

function storeLang(lang: Lang): void {
  try {
    globalThis.localStorage?.setItem(storageKey, lang);
  } catch {
    // The choice then lasts for this page only, which is the best we can do.
  }
}

function apply(lang: Lang): void {
  current = lang;
  document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

export function getLang(): Lang {
  return current;
}

/** Switches every mounted component to `lang` and remembers the choice. */
export function setLang(lang: Lang): void {
  storeLang(lang);
  apply(lang);
}

/** The message for `key` in `lang`, with `{name}` placeholders filled from `params`. */
export function translate(lang: Lang, key: MessageKey, params?: Record<string, string | number>): string {
  const message = dictionaries[lang][key];
  if (!params) return message;
  return message.replace(/\{(\w+)\}/g, (placeholder, name: string) =>
    name in params ? String(params[name]) : placeholder,
  );
}

export interface I18n {
  lang: Lang;
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  setLang: (lang: Lang) => void;
}

/** The current language and its translator; the calling component re-renders when the language changes. */
export function useI18n(): I18n {
  const [lang, setLocalLang] = useState(current);
  useEffect(() => {
    listeners.add(setLocalLang);
    // The language may have changed between the first render and this effect.
    setLocalLang(current);
    return () => {
      listeners.delete(setLocalLang);
    };
  }, []);
  return { lang, t: (key, params) => translate(lang, key, params), setLang };
}

// Another tab changed the language: follow it, so the pages a resident has open agree.
globalThis.addEventListener?.('storage', (event: StorageEvent) => {
  if (event.key === storageKey && isLang(event.newValue)) apply(event.newValue);
});

if (typeof document !== 'undefined') document.documentElement.lang = current;

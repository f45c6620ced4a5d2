/** Loads what a My Page panel shows, and reloads it on demand or when the language changes. */
import { useEffect, useState } from 'preact/hooks';
import { type Lang, useI18n } from '../shared/i18n.ts';
import { Refused, SessionEnded } from './me-api.ts';

export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'failed'; detail?: string }
  | { status: 'ready'; value: T };

export function useLoaded<T>(load: (lang: Lang) => Promise<T>, onEnded: () => void) {
  const { lang } = useI18n();
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  const failed = (failure: unknown) => {
    if (failure instanceof SessionEnded) onEnded();
    else setState({ status: 'failed', ...(failure instanceof Refused ? { detail: failure.detail } : {}) });
  };
  const reload = () => load(lang).then((value) => setState({ status: 'ready', value }), failed);
  useEffect(() => {
    void reload();
  }, [lang]);
  return { state, reload, failed };
}

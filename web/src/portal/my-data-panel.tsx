/**
 * The resident's rights over what Machi holds (個人情報保護法): download all of it (JSON, or a
 * report to read and print), and erase it, after a plain confirmation that says what stays and why.
 */
import { useState } from 'preact/hooks';
import { useI18n } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';
import { download, eraseAll, Refused, SessionEnded } from './me-api.ts';

interface Props {
  session: ResidentSession;
  onEnded: () => void;
}

interface Erased {
  municipalities: { erased: string[]; kept: { id: string; law: string }[] }[];
  keptRecords: { what: string; why: string }[];
}

export function MyDataPanel({ session, onEnded }: Props) {
  const { t, lang } = useI18n();
  const [asking, setAsking] = useState(false);
  const [erased, setErased] = useState<Erased | undefined>();
  const [error, setError] = useState<string | undefined>();
  const failed = (failure: unknown) => {
    if (failure instanceof SessionEnded) onEnded();
    else setError(failure instanceof Refused ? failure.detail : t('my.failed'));
  };
  const erase = async () => {
    try {
      setErased((await eraseAll(session, lang)) as Erased);
      setAsking(false);
    } catch (failure) {
      failed(failure);
    }
  };
  const count = erased?.municipalities.reduce((n, m) => n + m.erased.length, 0) ?? 0;
  const kept = erased?.municipalities.flatMap((m) => m.kept) ?? [];

  return (
    <section class="panel my-data" aria-labelledby="my-data-heading">
      <h2 id="my-data-heading">{t('my.data.heading')}</h2>
      <p>{t('my.data.lead')}</p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <div class="my-data__actions">
        <button
          type="button"
          class="button button--secondary"
          onClick={() => download(session, `/export?format=html&lang=${lang}`).catch(failed)}
        >
          {t('my.data.report')}
        </button>
        <button
          type="button"
          class="button button--secondary"
          onClick={() => download(session, `/export?lang=${lang}`).catch(failed)}
        >
          {t('my.data.json')}
        </button>
      </div>
      <h3>{t('my.data.eraseHeading')}</h3>
      <p>{t('my.data.eraseLead')}</p>
      {!asking && !erased && (
        <button type="button" class="button button--danger" onClick={() => setAsking(true)}>
          {t('my.data.erase')}
        </button>
      )}
      {asking && (
        <fieldset class="confirm">
          <legend>{t('my.data.eraseConfirm')}</legend>
          <button type="button" class="button button--danger" onClick={() => void erase()}>
            {t('my.data.eraseNow')}
          </button>
          <button type="button" class="button button--secondary" onClick={() => setAsking(false)}>
            {t('my.cancel')}
          </button>
        </fieldset>
      )}
      {erased && (
        <div class="notice" role="status">
          <p>{t('my.data.erased', { count })}</p>
          {kept.length > 0 && (
            <>
              <p>{t('my.data.keptByLaw')}</p>
              <ul>
                {kept.map((k) => (
                  <li key={k.id}>{k.law}</li>
                ))}
              </ul>
            </>
          )}
          <ul>
            {erased.keptRecords.map((r) => (
              <li key={r.what}>
                <strong>{r.what}</strong>: {r.why}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

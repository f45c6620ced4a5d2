/**
 * The services a resident lets use their data: for each, who runs it, what it uses and for what,
 * for how long, whether it passes the data on (第三者提供); a signed receipt to download; and
 * stopping it, in two plain steps (ask, then confirm), as easy as giving it.
 */
import { useState } from 'preact/hooks';
import { formatDateTime } from '../shared/dates.ts';
import { type MessageKey, useI18n } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';
import { ConsentEditor } from './consent-editor.tsx';
import { type Consent, download, fetchConsents, withdraw } from './me-api.ts';
import { useLoaded } from './use-loaded.ts';

interface Props {
  session: ResidentSession;
  onEnded: () => void;
}

/** `P30D`, `P1Y` in words: 30日, 1年. */
function retentionWords(
  iso: string,
  t: (key: MessageKey, params?: Record<string, string | number>) => string,
) {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(iso);
  if (!match) return iso;
  const [, y, m, w, d] = match;
  const parts = [
    y && t('my.consents.years', { n: y }),
    m && t('my.consents.months', { n: m }),
    w && t('my.consents.weeks', { n: w }),
    d && t('my.consents.days', { n: d }),
  ].filter(Boolean);
  return parts.join(' ');
}

export function ConsentsPanel({ session, onEnded }: Props) {
  const { t, lang } = useI18n();
  const { state, reload, failed } = useLoaded((l) => fetchConsents(session, l), onEnded);
  const [asking, setAsking] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [editing, setEditing] = useState<string | undefined>();
  const edited = async (name: string) => {
    setEditing(undefined);
    await reload();
    setDone(t('my.editor.saved', { name }));
  };
  const editor = (clientId: string) => (
    <ConsentEditor
      session={session}
      clientId={clientId}
      onDone={(name) => void edited(name)}
      onCancel={() => setEditing(undefined)}
      failed={failed}
    />
  );

  const stop = async (consent: Consent) => {
    try {
      await withdraw(session, consent.id);
      setAsking(undefined);
      await reload();
      setDone(t('my.consents.withdrawn', { name: consent.service.name }));
    } catch (failure) {
      failed(failure);
    }
  };

  const given = state.status === 'ready' ? state.value.filter((c) => c.state === 'given') : [];
  const ended = state.status === 'ready' ? state.value.filter((c) => c.state !== 'given') : [];

  return (
    <section class="panel my-consents" aria-labelledby="consents-heading">
      <h2 id="consents-heading">{t('my.consents.heading')}</h2>
      <p>{t('my.consents.lead')}</p>
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {state.status === 'loading' && <p role="status">{t('portal.loading')}</p>}
      {state.status === 'failed' && (
        <p class="form-error" role="alert">
          {state.detail ?? t('my.failed')}
        </p>
      )}
      {state.status === 'ready' && given.length === 0 && <p>{t('my.consents.none')}</p>}
      <ul class="consent-list">
        {given.map((consent) => (
          <li key={consent.id} class="consent">
            <h3 class="consent__service">{consent.service.name}</h3>
            <p class="consent__meta">
              {t('my.consents.operator', { name: consent.controller })}
              <br />
              {t('my.consents.since', { date: formatDateTime(new Date(consent.givenAt), lang) })}
            </p>
            <ul class="consent__items">
              {consent.items.map((item) => (
                <li key={`${item.category}:${item.purpose}`}>
                  <strong>{item.categoryName}</strong>
                  {item.sensitive && <span class="badge badge--warn">{t('my.consents.sensitive')}</span>}
                  <br />
                  {t('my.consents.for', {
                    purpose: item.purposeName,
                    period: retentionWords(item.retention, t),
                  })}
                  {item.thirdParty && (
                    <>
                      <br />
                      {t('my.consents.thirdParty')}
                    </>
                  )}
                </li>
              ))}
            </ul>
            <div class="consent__actions">
              <button
                type="button"
                class="button button--secondary"
                onClick={() => download(session, `/consents/${consent.id}/receipt`).catch(failed)}
              >
                {t('my.consents.receipt')}
              </button>
              {editing !== consent.service.clientId && (
                <button
                  type="button"
                  class="button button--secondary"
                  onClick={() => setEditing(consent.service.clientId)}
                >
                  {t('my.consents.review')}
                </button>
              )}
              {asking !== consent.id && (
                <button type="button" class="button button--danger" onClick={() => setAsking(consent.id)}>
                  {t('my.consents.stop')}
                </button>
              )}
            </div>
            {asking === consent.id && (
              <fieldset class="confirm">
                <legend>{t('my.consents.confirm', { name: consent.service.name })}</legend>
                <button type="button" class="button button--danger" onClick={() => void stop(consent)}>
                  {t('my.consents.confirmStop')}
                </button>
                <button type="button" class="button button--secondary" onClick={() => setAsking(undefined)}>
                  {t('my.cancel')}
                </button>
              </fieldset>
            )}
            {editing === consent.service.clientId && editor(consent.service.clientId)}
          </li>
        ))}
      </ul>
      {ended.length > 0 && (
        <details class="consent-history">
          <summary>{t('my.consents.history', { count: ended.length })}</summary>
          <ul>
            {ended.map((c) => (
              <li key={c.id}>
                {c.service.name}（{t(`my.consents.state.${c.state}` as MessageKey)}）
                {!given.some((g) => g.service.clientId === c.service.clientId) &&
                  editing !== c.service.clientId && (
                    <button
                      type="button"
                      class="button button--secondary"
                      onClick={() => setEditing(c.service.clientId)}
                    >
                      {t('my.consents.again')}
                    </button>
                  )}
                {editing === c.service.clientId && editor(c.service.clientId)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

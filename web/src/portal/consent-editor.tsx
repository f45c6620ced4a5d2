/**
 * The consent screen inside My Page: the service's request in the same words as the screen shown
 * at login, a checkbox per item asked on consent (ticked as now granted), what it uses on another
 * legal basis, and one button to record the answer. Unticking everything ends the consent.
 */
import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';
import { answerRequest, fetchRequest, type RequestItem, type ServiceRequest } from './me-api.ts';

interface Props {
  session: ResidentSession;
  clientId: string;
  onDone: (serviceName: string) => void;
  onCancel: () => void;
  failed: (failure: unknown) => void;
}

function Terms({ item }: { item: RequestItem }) {
  const { t } = useI18n();
  return (
    <span class="terms">
      {t('my.consents.for', { purpose: item.purposeName, period: item.retention })}
      <br />
      {item.purposeDescription}
      {item.thirdParty && (
        <>
          <br />
          {t('my.consents.thirdParty')}
        </>
      )}
    </span>
  );
}

export function ConsentEditor({ session, clientId, onDone, onCancel, failed }: Props) {
  const { t, lang } = useI18n();
  const [request, setRequest] = useState<ServiceRequest | undefined>();
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  useEffect(() => {
    fetchRequest(session, clientId, lang).then((loaded) => {
      setRequest(loaded);
      setTicked(new Set(loaded.asked.filter((i) => i.granted).map((i) => i.key)));
    }, failed);
  }, [clientId, lang]);

  if (!request) return <p role="status">{t('portal.loading')}</p>;
  const toggle = (key: string) => {
    const next = new Set(ticked);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setTicked(next);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await answerRequest(session, request, [...ticked], lang);
      onDone(request.serviceName);
    } catch (failure) {
      failed(failure);
    }
  };
  const headingId = `editor-${clientId}`;
  return (
    <form class="consent-editor" onSubmit={submit} aria-labelledby={headingId}>
      <h4 id={headingId}>{t('my.editor.heading', { name: request.serviceName })}</h4>
      <p>{t('my.editor.lead', { name: request.serviceName, controller: request.controller })}</p>
      <fieldset class="consent-editor__asked">
        <legend>{t('my.editor.asked')}</legend>
        {request.asked.map((item) => (
          <label key={item.key} class="check">
            <input type="checkbox" checked={ticked.has(item.key)} onChange={() => toggle(item.key)} />
            <span>
              <strong>{item.categoryName}</strong>
              {item.sensitive && <span class="badge badge--warn">{t('my.consents.sensitive')}</span>}
              <br />
              <Terms item={item} />
            </span>
          </label>
        ))}
      </fieldset>
      {request.informed.length > 0 && (
        <div class="consent-editor__informed">
          <p>{t('my.editor.informed')}</p>
          <ul>
            {request.informed.map((item) => (
              <li key={item.key}>
                <strong>{item.categoryName}</strong>: <Terms item={item} />
              </li>
            ))}
          </ul>
        </div>
      )}
      <details>
        <summary>{t('my.editor.fullText')}</summary>
        <pre class="consent-editor__text">{request.text}</pre>
      </details>
      <div class="consent__actions">
        <button type="submit" class="button">
          {t('my.editor.save')}
        </button>
        <button type="button" class="button button--secondary" onClick={onCancel}>
          {t('my.editor.cancel')}
        </button>
      </div>
    </form>
  );
}

/**
 * The data tracker: every use of the resident's personal data, allowed or refused, one plain
 * sentence each, newest first (Japan time); then the record of provisions to third parties.
 */
import { formatDateTime } from '../shared/dates.ts';
import { useI18n } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';
import { fetchAccessLog, fetchProvisions } from './me-api.ts';
import { useLoaded } from './use-loaded.ts';

interface Props {
  session: ResidentSession;
  onEnded: () => void;
}

export function TrackerPanel({ session, onEnded }: Props) {
  const { t, lang } = useI18n();
  const log = useLoaded((l) => fetchAccessLog(session, l), onEnded);
  const provisions = useLoaded((l) => fetchProvisions(session, l), onEnded);
  return (
    <section class="panel my-tracker" aria-labelledby="tracker-heading">
      <h2 id="tracker-heading">{t('my.tracker.heading')}</h2>
      <p>{t('my.tracker.lead')}</p>
      {log.state.status === 'loading' && <p role="status">{t('portal.loading')}</p>}
      {log.state.status === 'failed' && (
        <p class="form-error" role="alert">
          {log.state.detail ?? t('my.failed')}
        </p>
      )}
      {log.state.status === 'ready' && log.state.value.length === 0 && <p>{t('my.tracker.none')}</p>}
      {log.state.status === 'ready' && log.state.value.length > 0 && (
        <ol class="tracker">
          {log.state.value.map((entry) => (
            <li
              key={`${entry.municipality.code}:${entry.seq}`}
              class={`tracker__entry tracker__entry--${entry.decision}`}
            >
              {entry.text}
            </li>
          ))}
        </ol>
      )}
      <h3>{t('my.provisions.heading')}</h3>
      <p>{t('my.provisions.lead')}</p>
      {provisions.state.status === 'ready' && provisions.state.value.length === 0 && (
        <p>{t('my.provisions.none')}</p>
      )}
      {provisions.state.status === 'ready' && provisions.state.value.length > 0 && (
        <ul class="provisions">
          {provisions.state.value.map((p) => (
            <li key={`${p.at}:${p.recipient}`}>
              {t('my.provisions.entry', {
                date: formatDateTime(new Date(p.at), lang),
                recipient: p.recipient,
                controller: p.controller,
                data: p.categories.join(lang === 'ja' ? '・' : ', '),
                purpose: p.purposeName,
              })}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * My Page: who is logged in, the services they let use their data (and stopping that), every use
 * of their data in plain words (the data tracker), the provisions to third parties, and their
 * rights: downloading everything, erasing it. Myカレンダー (garbage days) comes first, as the page
 * residents open most; then the features still to come.
 */
import { useI18n } from '../shared/i18n.ts';
import { logOut, type ResidentSession } from './auth.ts';
import { CalendarPanel } from './calendar-panel.tsx';
import { ConsentsPanel } from './consents-panel.tsx';
import type { Me } from './me-api.ts';
import { MyDataPanel } from './my-data-panel.tsx';
import { NotificationsPanel } from './notifications-panel.tsx';
import { ServiceCards } from './portal-page.tsx';
import { TrackerPanel } from './tracker-panel.tsx';

interface Props {
  session: ResidentSession;
  me: Me;
  onEnded: () => void;
}

export function MyPage({ session, me, onEnded }: Props) {
  const { t, lang } = useI18n();
  const home = me.homeMunicipality;
  return (
    <div class="my-page">
      <div class="intro">
        <h1>{t('my.heading')}</h1>
        <p class="lead">{t('my.hello', { name: me.displayName })}</p>
      </div>
      <section class="panel my-page__who" aria-labelledby="who-heading">
        <h2 id="who-heading">{t('my.who.heading')}</h2>
        <dl class="facts">
          <dt>{t('my.who.name')}</dt>
          <dd>{me.displayName}</dd>
          {me.email && (
            <>
              <dt>{t('my.who.email')}</dt>
              <dd>{me.email}</dd>
            </>
          )}
          {home && (
            <>
              <dt>{t('my.who.home')}</dt>
              <dd>{lang === 'en' ? home.nameEn : home.name}</dd>
            </>
          )}
        </dl>
        <button type="button" class="button button--secondary" onClick={() => logOut(session)}>
          {t('my.logOut')}
        </button>
      </section>

      <CalendarPanel session={session} onEnded={onEnded} />
      <NotificationsPanel session={session} onEnded={onEnded} />
      <ConsentsPanel session={session} onEnded={onEnded} />
      <TrackerPanel session={session} onEnded={onEnded} />
      <MyDataPanel session={session} onEnded={onEnded} />

      <ServiceCards />
    </div>
  );
}

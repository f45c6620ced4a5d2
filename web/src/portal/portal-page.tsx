/**
 * The resident portal's front page. Until login with the common ID (共通ID) exists it explains
 * what the portal will offer; it shows no resident data.
 */
import { useI18n } from '../shared/i18n.ts';
import { Layout } from '../shared/layout.tsx';
import type { MessageKey } from '../shared/messages/ja.ts';

interface Service {
  id: string;
  titleKey: MessageKey;
  bodyKey: MessageKey;
}

const services: Service[] = [
  {
    id: 'procedures',
    titleKey: 'portal.services.procedures.title',
    bodyKey: 'portal.services.procedures.body',
  },
  { id: 'epost', titleKey: 'portal.services.epost.title', bodyKey: 'portal.services.epost.body' },
  { id: 'calendar', titleKey: 'portal.services.calendar.title', bodyKey: 'portal.services.calendar.body' },
  { id: 'notices', titleKey: 'portal.services.notices.title', bodyKey: 'portal.services.notices.body' },
];

export function PortalPage() {
  const { t } = useI18n();
  return (
    <Layout page="portal">
      <div class="intro">
        <h1>{t('portal.heading')}</h1>
        <p class="lead">{t('portal.lead')}</p>
      </div>

      <section class="panel" aria-labelledby="login-heading">
        <h2 id="login-heading">{t('portal.login.heading')}</h2>
        <p id="login-note">{t('portal.login.note')}</p>
        {/* Stays focusable and announced as unavailable until /login exists. */}
        <button type="button" class="button" aria-disabled="true" aria-describedby="login-note">
          {t('portal.login.action')}
        </button>
      </section>

      <section aria-labelledby="services-heading">
        <h2 id="services-heading">{t('portal.services.heading')}</h2>
        <ul class="cards">
          {services.map((service) => (
            <li key={service.id} class="card">
              <h3 class="card__title">{t(service.titleKey)}</h3>
              <p>{t(service.bodyKey)}</p>
              <p class="badge">{t('common.comingSoon')}</p>
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  );
}

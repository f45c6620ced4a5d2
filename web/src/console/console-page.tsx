/**
 * The staff console's shell: the sections staff will work in, none open yet, and the reminder
 * that staff sign in with a second factor. It must never show resident data before sign-in exists.
 */
import { useI18n } from '../shared/i18n.ts';
import { Layout } from '../shared/layout.tsx';
import type { MessageKey } from '../shared/messages/ja.ts';

interface Section {
  id: string;
  titleKey: MessageKey;
  bodyKey: MessageKey;
}

const sections: Section[] = [
  { id: 'notices', titleKey: 'console.nav.notices.title', bodyKey: 'console.nav.notices.body' },
  { id: 'epost', titleKey: 'console.nav.epost.title', bodyKey: 'console.nav.epost.body' },
  { id: 'procedures', titleKey: 'console.nav.procedures.title', bodyKey: 'console.nav.procedures.body' },
  { id: 'disaster', titleKey: 'console.nav.disaster.title', bodyKey: 'console.nav.disaster.body' },
];

export function ConsolePage() {
  const { t } = useI18n();
  return (
    <Layout page="console">
      <div class="intro">
        <h1>{t('console.heading')}</h1>
        <p class="lead">{t('console.lead')}</p>
      </div>

      <div class="console">
        <section class="panel panel--notice console__sign-in" aria-labelledby="sign-in-heading">
          <h2 id="sign-in-heading">{t('console.signIn.heading')}</h2>
          <p>{t('console.signIn.note')}</p>
        </section>

        <nav class="console__nav" aria-labelledby="console-nav-heading">
          <h2 id="console-nav-heading">{t('console.nav.heading')}</h2>
          <ul class="section-list">
            {sections.map((section) => (
              <li key={section.id} class="section-list__item">
                <h3 class="section-list__title">{t(section.titleKey)}</h3>
                <p>{t(section.bodyKey)}</p>
                <p class="badge">{t('common.comingSoon')}</p>
              </li>
            ))}
          </ul>
        </nav>
      </div>
    </Layout>
  );
}

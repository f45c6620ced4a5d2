/**
 * The frame every page shares: skip link, header (name, page title, language switch),
 * the main landmark holding the page's own content, and a footer linking the pages.
 */
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { type Lang, languages, useI18n } from './i18n.ts';
import { type PageId, pageIds, pages } from './pages.ts';

/** Each language's name is written in that language, so a reader finds their own. */
const languageNames: Record<Lang, string> = { ja: '日本語', en: 'English' };

interface LayoutProps {
  page: PageId;
  children: ComponentChildren;
}

export function Layout({ page, children }: LayoutProps) {
  const { t, lang } = useI18n();
  const title = t(pages[page].titleKey);

  useEffect(() => {
    document.title = t('layout.documentTitle', { title });
  }, [lang, title]);

  return (
    <>
      <a class="skip-link" href="#main">
        {t('layout.skipToContent')}
      </a>
      <header class="site-header">
        <div class="container site-header__inner">
          <a class="brand" href="/" aria-label={t('layout.brandLabel')}>
            <img class="brand__icon" src="/icon.svg" alt="" width="32" height="32" />
            <span>{t('layout.brand')}</span>
          </a>
          <LanguageSwitch />
          <p class="site-header__page">{title}</p>
        </div>
      </header>
      <main id="main" class="container" tabIndex={-1}>
        {children}
      </main>
      <SiteFooter page={page} />
    </>
  );
}

function LanguageSwitch() {
  const { t, lang, setLang } = useI18n();
  return (
    <fieldset class="lang-switch">
      <legend class="visually-hidden">{t('layout.language')}</legend>
      {languages.map((option) => (
        <button
          key={option}
          type="button"
          class="lang-switch__button"
          lang={option}
          aria-pressed={option === lang}
          onClick={() => setLang(option)}
        >
          {languageNames[option]}
        </button>
      ))}
    </fieldset>
  );
}

function SiteFooter({ page }: { page: PageId }) {
  const { t } = useI18n();
  return (
    <footer class="site-footer">
      <div class="container">
        <nav aria-label={t('layout.footerNav')}>
          <ul class="site-footer__links">
            {pageIds.map((id) => (
              <li key={id}>
                <a href={pages[id].path} aria-current={id === page ? 'page' : undefined}>
                  {t(pages[id].titleKey)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="site-footer__note">{t('layout.footerNote')}</p>
      </div>
    </footer>
  );
}

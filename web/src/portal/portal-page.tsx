/**
 * The resident portal. Before login it explains what the portal offers and shows the login
 * button (the common ID, 共通ID); after login it is My Page. Nothing about the resident is fetched
 * before login.
 */
import { useEffect, useState } from 'preact/hooks';
import { type MessageKey, useI18n } from '../shared/i18n.ts';
import { Layout } from '../shared/layout.tsx';
import {
  completeLogin,
  currentSession,
  forgetSession,
  type ResidentSession,
  SignInError,
  startLogin,
} from './auth.ts';
import { fetchMe, type Me, SessionEnded } from './me-api.ts';
import { MyPage } from './my-page.tsx';

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

/** What the portal will offer, as cards (before login and on My Page). */
export function ServiceCards() {
  const { t } = useI18n();
  return (
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
  );
}

type State =
  | { status: 'loading' }
  | { status: 'logged-out'; problem?: MessageKey }
  | { status: 'logged-in'; session: ResidentSession; me: Me };

const loginProblems: Record<string, MessageKey> = {
  access_denied: 'portal.login.denied',
  'insecure-context': 'portal.login.insecure',
};

async function loadState(): Promise<State> {
  try {
    const session = (await completeLogin()) ?? currentSession();
    if (!session) return { status: 'logged-out' };
    return { status: 'logged-in', session, me: await fetchMe(session) };
  } catch (error) {
    forgetSession();
    if (error instanceof SessionEnded) return { status: 'logged-out', problem: 'portal.login.expired' };
    const reason = error instanceof SignInError ? error.message : 'failed';
    return { status: 'logged-out', problem: loginProblems[reason] ?? 'portal.login.failed' };
  }
}

export function PortalPage() {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ status: 'loading' });
  useEffect(() => {
    void loadState().then(setState);
  }, []);
  const ended = () => {
    forgetSession();
    setState({ status: 'logged-out', problem: 'portal.login.expired' });
  };

  return (
    <Layout page="portal">
      {state.status === 'loading' && (
        <p class="status" role="status">
          {t('portal.loading')}
        </p>
      )}
      {state.status === 'logged-out' && <Welcome problem={state.problem} />}
      {state.status === 'logged-in' && <MyPage session={state.session} me={state.me} onEnded={ended} />}
    </Layout>
  );
}

function Welcome({ problem }: { problem?: MessageKey | undefined }) {
  const { t, lang } = useI18n();
  const [error, setError] = useState<MessageKey | undefined>(problem);
  const login = () =>
    startLogin(lang).catch((failure: unknown) =>
      setError(
        failure instanceof SignInError && failure.message === 'insecure-context'
          ? 'portal.login.insecure'
          : 'portal.login.failed',
      ),
    );
  return (
    <>
      <div class="intro">
        <h1>{t('portal.heading')}</h1>
        <p class="lead">{t('portal.lead')}</p>
      </div>

      <section class="panel" aria-labelledby="login-heading">
        <h2 id="login-heading">{t('portal.login.heading')}</h2>
        <p id="login-note">{t('portal.login.note')}</p>
        {error && (
          <p class="form-error" role="alert">
            {t(error)}
          </p>
        )}
        <button type="button" class="button" aria-describedby="login-note" onClick={login}>
          {t('portal.login.action')}
        </button>
      </section>

      <ServiceCards />
    </>
  );
}

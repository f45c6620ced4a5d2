/**
 * The staff console: sign-in for one municipality (two factors, through Machi's own provider), then
 * the signed-in staff member's workspace. Nothing about residents is fetched before sign-in, and a
 * section is shown only when the staff member's roles allow its work.
 */
import { useEffect, useState } from 'preact/hooks';
import { type MessageKey, useI18n } from '../shared/i18n.ts';
import { Layout } from '../shared/layout.tsx';
import {
  completeSignIn,
  currentSession,
  forgetSession,
  SignInError,
  type StaffSession,
  signOut,
} from './auth.ts';
import { GarbagePanel } from './garbage-panel.tsx';
import { ServicesPanel } from './services-panel.tsx';
import { SignInPanel } from './sign-in-panel.tsx';
import { fetchMe, type Me, SessionEnded } from './staff-api.ts';

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

type State =
  | { status: 'loading' }
  | { status: 'signed-out'; problem?: MessageKey }
  | { status: 'signed-in'; session: StaffSession; me: Me };

const signInProblems: Record<string, MessageKey> = {
  access_denied: 'console.signIn.denied',
  'insecure-context': 'console.signIn.insecure',
};

/** Reads the sign-in the provider just returned, or the tab's session, and who it belongs to. */
async function loadState(): Promise<State> {
  try {
    const session = (await completeSignIn()) ?? currentSession();
    if (!session) return { status: 'signed-out' };
    return { status: 'signed-in', session, me: await fetchMe(session) };
  } catch (error) {
    forgetSession();
    if (error instanceof SessionEnded) return { status: 'signed-out', problem: 'console.signIn.expired' };
    const reason = error instanceof SignInError ? error.message : 'failed';
    return { status: 'signed-out', problem: signInProblems[reason] ?? 'console.signIn.failed' };
  }
}

export function ConsolePage() {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ status: 'loading' });
  useEffect(() => {
    void loadState().then(setState);
  }, []);
  const ended = () => {
    forgetSession();
    setState({ status: 'signed-out', problem: 'console.signIn.expired' });
  };

  return (
    <Layout page="console">
      <div class="intro">
        <h1>{t('console.heading')}</h1>
        <p class="lead">{t('console.lead')}</p>
      </div>
      {state.status === 'loading' && (
        <p class="status" role="status">
          {t('console.loading')}
        </p>
      )}
      {state.status === 'signed-out' && <SignInPanel problem={state.problem} />}
      {state.status === 'signed-in' && <Workspace session={state.session} me={state.me} onEnded={ended} />}
    </Layout>
  );
}

function Workspace({ session, me, onEnded }: { session: StaffSession; me: Me; onEnded: () => void }) {
  const { t, lang } = useI18n();
  const roles = me.roles.map((role) => t(`console.role.${role}` as MessageKey)).join('、');
  return (
    <div class="console">
      <section class="panel console__who" aria-labelledby="who-heading">
        <h2 id="who-heading">{lang === 'en' ? me.tenant.nameEn : me.tenant.name}</h2>
        <p>{t('console.signedInAs', { name: me.displayName, roles })}</p>
        <button type="button" class="button button--secondary" onClick={() => signOut(session)}>
          {t('console.signOut')}
        </button>
      </section>

      {me.actions.includes('clients.manage') && <ServicesPanel session={session} onEnded={onEnded} />}
      {me.actions.includes('calendar.manage') && <GarbagePanel session={session} onEnded={onEnded} />}

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
  );
}

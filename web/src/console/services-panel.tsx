/**
 * The services (OpenID clients) this municipality registered for its residents, and the form that
 * registers one. A new confidential client's secret is shown once, here, and never again.
 */
import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../shared/i18n.ts';
import type { StaffSession } from './auth.ts';
import {
  fetchClients,
  type NewServiceClient,
  Refused,
  registerClient,
  type ServiceClient,
  SessionEnded,
} from './staff-api.ts';

const SCOPES = ['profile', 'email', 'address', 'phone', 'municipality', 'offline_access'] as const;

interface Props {
  session: StaffSession;
  onEnded: () => void;
}

export function ServicesPanel({ session, onEnded }: Props) {
  const { t } = useI18n();
  const [clients, setClients] = useState<ServiceClient[] | undefined>();
  const [created, setCreated] = useState<
    { clientId: string; clientSecret: string | null; name: string } | undefined
  >();
  const [error, setError] = useState<string | undefined>();

  const failed = (failure: unknown) => {
    if (failure instanceof SessionEnded) onEnded();
    else setError(failure instanceof Refused ? failure.detail : t('console.services.failed'));
  };
  const reload = () => fetchClients(session).then(setClients, failed);
  useEffect(() => {
    void reload();
  }, [session.accessToken]);

  const submit = async (client: NewServiceClient) => {
    setError(undefined);
    try {
      const registered = await registerClient(session, client);
      // The list is refreshed before the notice shows, so the new service is already in it.
      await reload();
      setCreated({ ...registered, name: client.name });
      return true;
    } catch (failure) {
      failed(failure);
      return false;
    }
  };

  return (
    <section class="console__services" aria-labelledby="services-heading">
      <h2 id="services-heading">{t('console.services.heading')}</h2>
      <p>{t('console.services.lead')}</p>
      {created && (
        <div class="panel panel--notice" role="status">
          <h3>{t('console.services.created', { name: created.name })}</h3>
          <dl class="credentials">
            <dt>client_id</dt>
            <dd>
              <code>{created.clientId}</code>
            </dd>
            {created.clientSecret && (
              <>
                <dt>client_secret</dt>
                <dd>
                  <code>{created.clientSecret}</code>
                </dd>
              </>
            )}
          </dl>
          {created.clientSecret && <p>{t('console.services.secretOnce')}</p>}
        </div>
      )}
      {clients && <ClientList clients={clients} />}
      <ClientForm onSubmit={submit} error={error} />
    </section>
  );
}

function ClientList({ clients }: { clients: ServiceClient[] }) {
  const { t } = useI18n();
  if (clients.length === 0) return <p class="status">{t('console.services.none')}</p>;
  return (
    <ul class="client-list">
      {clients.map((client) => (
        <li key={client.clientId} class="client-list__item">
          <h3>{client.name}</h3>
          <p>
            <code>{client.clientId}</code>
          </p>
          <p class="client-list__uris">{client.redirectUris.join(' ')}</p>
          <p>
            {t('console.services.scopes')}: {client.scopes.join(' ')}
          </p>
        </li>
      ))}
    </ul>
  );
}

function ClientForm({
  onSubmit,
  error,
}: {
  onSubmit: (c: NewServiceClient) => Promise<boolean>;
  error?: string | undefined;
}) {
  const { t } = useI18n();
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const backchannel = text('backchannel');
    const ok = await onSubmit({
      name: text('name'),
      redirectUris: text('redirectUris').split(/\s+/).filter(Boolean),
      ...(backchannel ? { backchannelLogoutUri: backchannel } : {}),
      scopes: ['openid', ...SCOPES.filter((scope) => data.get(`scope-${scope}`) === 'on')],
      public: data.get('public') === 'on',
      serviceAccess: data.get('serviceAccess') === 'on',
    });
    if (ok) form.reset();
  };
  return (
    <form class="form panel" onSubmit={submit} aria-labelledby="new-service-heading">
      <h3 id="new-service-heading">{t('console.services.new')}</h3>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <label class="field">
        <span class="field__label">{t('console.services.name')}</span>
        <input name="name" required maxLength={200} autoComplete="off" />
      </label>
      <label class="field">
        <span class="field__label">{t('console.services.redirectUris')}</span>
        <span class="field__hint">{t('console.services.redirectUrisHint')}</span>
        <textarea name="redirectUris" rows={2} inputMode="url" />
      </label>
      <label class="field">
        <span class="field__label">{t('console.services.backchannel')}</span>
        <input name="backchannel" type="url" inputMode="url" />
      </label>
      <fieldset class="field">
        <legend class="field__label">{t('console.services.scopes')}</legend>
        {SCOPES.map((scope) => (
          <label key={scope} class="check">
            <input type="checkbox" name={`scope-${scope}`} defaultChecked={scope === 'profile'} />
            <span>{t(`console.scope.${scope}`)}</span>
          </label>
        ))}
      </fieldset>
      <label class="check">
        <input type="checkbox" name="public" />
        <span>{t('console.services.public')}</span>
      </label>
      <label class="check">
        <input type="checkbox" name="serviceAccess" />
        <span>{t('console.services.serviceAccess')}</span>
      </label>
      <button type="submit" class="button">
        {t('console.services.register')}
      </button>
    </form>
  );
}

/** Sign-in: choose the municipality to work for, then sign in at Machi's login page (two factors). */
import { useEffect, useState } from 'preact/hooks';
import { type MessageKey, useI18n } from '../shared/i18n.ts';
import { fetchTenants, type Tenant } from '../shared/tenants.ts';
import { SignInError, startSignIn } from './auth.ts';

export function SignInPanel({ problem }: { problem?: MessageKey | undefined }) {
  const { t, lang } = useI18n();
  const [tenants, setTenants] = useState<Tenant[] | 'failed' | undefined>();
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState<MessageKey | undefined>(problem);

  useEffect(() => {
    const controller = new AbortController();
    fetchTenants(controller.signal).then(
      (list) => {
        const municipalities = list.filter((item) => item.kind !== 'prefecture' || list.length === 1);
        setTenants(list);
        setTenant((current) => current || municipalities[0]?.code || list[0]?.code || '');
      },
      () => !controller.signal.aborted && setTenants('failed'),
    );
    return () => controller.abort();
  }, []);

  const submit = (event: Event) => {
    event.preventDefault();
    if (!tenant) return;
    startSignIn(tenant, lang).catch((failure: unknown) =>
      setError(
        failure instanceof SignInError && failure.message === 'insecure-context'
          ? 'console.signIn.insecure'
          : 'console.signIn.failed',
      ),
    );
  };

  return (
    <section class="panel panel--notice console__sign-in" aria-labelledby="sign-in-heading">
      <h2 id="sign-in-heading">{t('console.signIn.heading')}</h2>
      <p>{t('console.signIn.note')}</p>
      {error && (
        <p class="form-error" role="alert">
          {t(error)}
        </p>
      )}
      {tenants === 'failed' && (
        <p class="form-error" role="alert">
          {t('console.signIn.noTenants')}
        </p>
      )}
      {Array.isArray(tenants) && (
        <form class="form" onSubmit={submit}>
          <label class="field">
            <span class="field__label">{t('console.signIn.tenant')}</span>
            <select value={tenant} onChange={(event) => setTenant((event.target as HTMLSelectElement).value)}>
              {tenants.map((item) => (
                <option key={item.code} value={item.code}>
                  {lang === 'en' && item.nameEn ? item.nameEn : item.name}（{item.code}）
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="button">
            {t('console.signIn.submit')}
          </button>
        </form>
      )}
    </section>
  );
}
